using DualLock.Comparison.Http;

namespace DualLock.Comparison.Chaos;

/// <summary>
/// Samples the CPU time of the load generator (this process) and of the API instances twice a second, so a
/// phase's report can say how many cores each used: a latency measured on a saturated machine is the
/// machine's, and the generator's share tells its ceiling from the server's.
/// </summary>
internal sealed class CpuSampler(IReadOnlyList<int> instancePids, ChaosLoad load) : IAsyncDisposable
{
    private readonly List<(double At, double Generator, double Instances)> _samples = [];
    private readonly CancellationTokenSource _stop = new();
    private Task? _running;

    public void Start() => _running = RunAsync();

    /// <summary>Cores used on average between <paramref name="from"/> and <paramref name="to"/> (seconds of the load clock), or null when not sampled.</summary>
    public (double Generator, double Instances)? CoresBetween(double from, double to)
    {
        lock (_samples)
        {
            var inside = _samples.Where(s => s.At >= from && s.At <= to).ToList();
            if (inside.Count < 2)
            {
                return null;
            }

            var (first, last) = (inside[0], inside[^1]);
            var seconds = last.At - first.At;
            return (ToCores(last.Generator - first.Generator, seconds), ToCores(last.Instances - first.Instances, seconds));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_running is not null)
        {
            await _running;
        }

        _stop.Dispose();
    }

    private static double ToCores(double cpuSeconds, double seconds) => seconds > 0 ? cpuSeconds / seconds : 0;

    private async Task RunAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
        do
        {
            var sample = (load.Elapsed.TotalSeconds, ProcessCpu.Seconds(Environment.ProcessId), instancePids.Sum(ProcessCpu.Seconds));
            lock (_samples)
            {
                _samples.Add(sample);
            }
        }
        while (await Tick(timer));
    }

    private async Task<bool> Tick(PeriodicTimer timer)
    {
        try
        {
            return await timer.WaitForNextTickAsync(_stop.Token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
