namespace DualLock.Comparison.Chaos;

/// <summary>One read of an instance's lock health (<c>/health/locks</c>: the duallock-* checks only, not the servers').</summary>
/// <param name="At">Seconds from the start of the load.</param>
/// <param name="Status">Healthy, Degraded, Unhealthy, or "no answer".</param>
internal sealed record HealthSample(double At, string Status);

/// <summary>
/// Reads the first instance's lock health every 200 ms while the load runs, so the report can say what the
/// health checks told an orchestrator during the fault: dual Degraded while it falls back, distributed Unhealthy
/// while it cannot lock, both Healthy once Redis is back.
/// </summary>
internal sealed class HealthSampler(HttpClient http, Uri instance, ChaosLoad load) : IAsyncDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);
    private readonly List<HealthSample> _samples = [];
    private readonly CancellationTokenSource _stop = new();
    private Task _reading = Task.CompletedTask;

    public void Start() => _reading = ReadAsync();

    /// <summary>Gets the samples taken so far (call after <see cref="DisposeAsync"/> for all of them).</summary>
    public IReadOnlyList<HealthSample> Samples
    {
        get
        {
            lock (_samples)
            {
                return [.. _samples];
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _reading;
        _stop.Dispose();
    }

    private async Task ReadAsync()
    {
        var url = new Uri(instance, "/health/locks");
        while (!_stop.IsCancellationRequested)
        {
            var at = load.Elapsed.TotalSeconds;
            string status;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                timeout.CancelAfter(TimeSpan.FromSeconds(2));
                using var response = await http.GetAsync(url, timeout.Token);
                status = (await response.Content.ReadAsStringAsync(timeout.Token)).Trim();
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
            {
                if (_stop.IsCancellationRequested)
                {
                    return;
                }

                status = "no answer";
            }

            lock (_samples)
            {
                _samples.Add(new HealthSample(at, status));
            }

            try
            {
                await Task.Delay(Interval, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
