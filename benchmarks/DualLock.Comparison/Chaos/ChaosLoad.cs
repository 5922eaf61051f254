using System.Collections.Concurrent;
using System.Diagnostics;

namespace DualLock.Comparison.Chaos;

/// <summary>One request as the client saw it; times are seconds from the start of the load, the amount is signed (a use is negative).</summary>
internal readonly record struct RequestRecord(double Start, double End, int Instance, int Status, string Code, WriteOutcome Outcome, int User, long Amount, double? ServerMs = null)
{
    public double LatencyMs => (End - Start) * 1000;
}

/// <summary>
/// Closed-loop charge/use load: each client is pinned to one instance (client i to instance
/// i mod 2, so a paused instance stalls only its own clients) and sends its next request as soon as
/// the previous one is answered or timed out. A quarter of the writes are uses. Every answer goes to
/// the oracle's tally and to the timeline.
/// </summary>
internal sealed class ChaosLoad(IReadOnlyList<PointApiClient> instances, IReadOnlyList<UserTally> users, int clients)
{
    private readonly ConcurrentQueue<RequestRecord> _records = new();
    private readonly Stopwatch _clock = new();
    private volatile bool _stopping;

    public TimeSpan Elapsed => _clock.Elapsed;

    public IReadOnlyList<RequestRecord> Records => [.. _records];

    /// <summary>Starts the clients; the returned task ends when every client has seen its last answer after <see cref="Stop"/>.</summary>
    public Task RunAsync()
    {
        _clock.Start();
        return Task.WhenAll(Enumerable.Range(0, clients).Select(i => Task.Run(() => ClientAsync(i % instances.Count))));
    }

    public void Stop() => _stopping = true;

    private async Task ClientAsync(int instance)
    {
        var client = instances[instance];
        while (!_stopping)
        {
            var index = Random.Shared.Next(users.Count);
            var user = users[index];
            var use = Random.Shared.Next(4) == 0;
            var amount = use ? Random.Shared.NextInt64(1, 500) : Random.Shared.NextInt64(1, 1000);
            var start = _clock.Elapsed.TotalSeconds;
            WriteResult result;
            try
            {
                result = await client.WriteAsync(user.UserId, use ? "use" : "charge", amount, CancellationToken.None);
            }
#pragma warning disable CA1031 // anything unexpected after sending may have been committed: ambiguous, never dropped
            catch (Exception ex)
#pragma warning restore CA1031
            {
                result = new WriteResult(WriteOutcome.Ambiguous, null, $"CLIENT_{ex.GetType().Name}", 0);
            }

            user.Record(result, use ? -amount : amount);
            _records.Enqueue(new RequestRecord(start, _clock.Elapsed.TotalSeconds, instance, result.Status, result.Code, result.Outcome, index, use ? -amount : amount, result.ServerMs));
        }
    }
}
