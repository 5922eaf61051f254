using System.Globalization;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace DualLock.Redis;

/// <summary>
/// What the stages of one Redis reader-writer lock (its read and write stage) or one Redis semaphore share:
/// the connection, the options, and the local first-come-first-served gate per key (which also carries the
/// key's release subscription).
/// </summary>
internal sealed class RedisGateShared
{
    public RedisGateShared(IConnectionMultiplexer redis, RedisGateSettings validated, int permits, TimeProvider time, ILogger logger, System.Diagnostics.Metrics.Meter? meter = null)
    {
        Redis = redis;
        Options = validated;
        Permits = permits;
        PermitsArg = permits.ToString(CultureInfo.InvariantCulture);
        Time = time;
        Logger = logger;
        Telemetry = RedisLockTelemetry.For(meter);

        // Readers: no local limit beyond the queue. A semaphore: no point letting more local callers contend in Redis than there are permits.
        Gates = FairGate.Registry(permits);
        LeaseMs = Ms(validated.Lease);

        // The waiting writer re-announces itself on every attempt (at least every recheck interval): its intent outlives one interval and one call.
        IntentMs = Ms((validated.RecheckInterval * 2) + validated.OperationTimeout);
    }

    public IConnectionMultiplexer Redis { get; }

    public RedisGateSettings Options { get; }

    public int Permits { get; }

    public RedisValue PermitsArg { get; }

    public TimeProvider Time { get; }

    public ILogger Logger { get; }

    /// <summary>Gets the counters the lease watchdog reports to (the build context's meter when there is one).</summary>
    public RedisLockTelemetry Telemetry { get; }

    public KeyedRegistry<FairGate> Gates { get; }

    public RedisValue LeaseMs { get; }

    public RedisValue IntentMs { get; }

    /// <summary>Leaves the key; the last user out unsubscribes the key's release channel.</summary>
    public void Exit(FairGate gate, RedisGateNames names)
    {
        if (Gates.Exit(gate) && gate.Subscription is Action<RedisChannel, RedisValue> handler)
        {
            RedisCall.Observe(Redis.GetSubscriber().UnsubscribeAsync(names.Channel, handler));
        }
    }

    private static string Ms(TimeSpan value) => ((long)Math.Ceiling(value.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture);
}
