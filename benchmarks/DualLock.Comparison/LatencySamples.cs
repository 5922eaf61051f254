using System.Diagnostics;

namespace DualLock.Comparison;

/// <summary>One charge as the generator saw it: when it was due, how late it left, how long it took, and the server's own part.</summary>
/// <param name="DueTicks">Stopwatch timestamp at which the open-loop schedule meant to send it (arrival + the seed's pause).</param>
/// <param name="LagTicks">How much later than due it was sent: the generator's own scheduling delay (timers, thread pool, GC).</param>
/// <param name="LatencyTicks">Send to response read, as in the table.</param>
/// <param name="ServerMs">The API's <c>Server-Timing: app</c> (its middleware pipeline), when sent.</param>
internal readonly record struct LatencySample(long DueTicks, long LagTicks, long LatencyTicks, double? ServerMs);

/// <summary>Per-second and whole-phase percentiles of a phase's samples (exact, sorted; a run has a few thousand).</summary>
internal sealed class LatencySamples
{
    private readonly List<LatencySample> _samples = [];

    public int Count
    {
        get
        {
            lock (_samples)
            {
                return _samples.Count;
            }
        }
    }

    public void Add(LatencySample sample)
    {
        lock (_samples)
        {
            _samples.Add(sample);
        }
    }

    public PhaseStats Stats(long originTicks, TimeSpan? from = null, TimeSpan? until = null)
    {
        var lo = originTicks + (long)((from ?? TimeSpan.Zero).TotalSeconds * Stopwatch.Frequency);
        var hi = until is { } u ? originTicks + (long)(u.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;
        return PhaseStats.Of(Snapshot().Where(s => s.DueTicks >= lo && s.DueTicks < hi).ToList());
    }

    /// <summary>One row per second of the phase (by due time), from <paramref name="originTicks"/>.</summary>
    public List<SecondStats> PerSecond(long originTicks)
        => [.. Snapshot()
            .GroupBy(s => (int)Math.Max(0, (s.DueTicks - originTicks) / Stopwatch.Frequency))
            .OrderBy(g => g.Key)
            .Select(g => new SecondStats(g.Key, PhaseStats.Of(g.ToList())))];

    private List<LatencySample> Snapshot()
    {
        lock (_samples)
        {
            return [.. _samples];
        }
    }
}

/// <summary>Percentiles of a set of samples, in milliseconds; NaN when empty (the server part: when no Server-Timing came).</summary>
internal sealed record PhaseStats(int Count, double P50Ms, double P95Ms, double P99Ms, double MaxMs, double ServerP95Ms, double ServerMaxMs, double LagP95Ms, double LagMaxMs)
{
    public static PhaseStats Of(IReadOnlyList<LatencySample> samples)
    {
        static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
        var latency = samples.Select(s => Ms(s.LatencyTicks)).Order().ToArray();
        var server = samples.Where(s => s.ServerMs is not null).Select(s => s.ServerMs!.Value).Order().ToArray();
        var lag = samples.Select(s => Ms(s.LagTicks)).Order().ToArray();
        return new PhaseStats(
            samples.Count, At(latency, 50), At(latency, 95), At(latency, 99), At(latency, 100),
            At(server, 95), At(server, 100), At(lag, 95), At(lag, 100));
    }

    /// <summary>The nearest-rank percentile (as HdrHistogram reports it).</summary>
    private static double At(double[] sorted, double percentile)
        => sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(percentile / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];
}

/// <summary>The samples due in second <paramref name="Second"/> of a phase.</summary>
internal sealed record SecondStats(int Second, PhaseStats Stats);
