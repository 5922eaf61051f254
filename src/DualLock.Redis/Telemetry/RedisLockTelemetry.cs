using System.Diagnostics.Metrics;
using DualLock.Telemetry;

namespace DualLock.Redis;

/// <summary>The Redis stages' counters, created on the <c>DualLock</c> meter the pipeline's build context provides.</summary>
internal sealed class RedisLockTelemetry
{
    private static readonly Lazy<Meter> DirectMeter = new(() => new Meter(DualLockTelemetry.Name));
    private static RedisLockTelemetry? _last;

    private RedisLockTelemetry(Meter meter)
    {
        Meter = meter;
        Handoffs = meter.CreateCounter<long>("duallock.redis.handoffs", "{event}", "Locks passed to a waiter of the same process without a Redis round trip.");
        WakeUps = meter.CreateCounter<long>("duallock.redis.wakeups", "{event}", "Waiters woken by a release message.");
        Rechecks = meter.CreateCounter<long>("duallock.redis.rechecks", "{event}", "Waiters that re-checked Redis because no release message arrived in time.");
        LeaseLost = meter.CreateCounter<long>("duallock.redis.lease.lost", "{event}", "Redis leases found lost (deleted, expired, taken over or held past the maximum hold time).");
        QueueFull = meter.CreateCounter<long>("duallock.redis.queue.full", "{event}", "Callers refused at once because too many waited for the key in this process.");
        KnownUnavailable = meter.CreateCounter<long>("duallock.redis.unavailable.known", "{event}", "Acquires refused at once, without a Redis call, because Redis was known to be unavailable.");
    }

    public Meter Meter { get; }

    public Counter<long> Handoffs { get; }

    public Counter<long> WakeUps { get; }

    public Counter<long> Rechecks { get; }

    public Counter<long> LeaseLost { get; }

    public Counter<long> QueueFull { get; }

    public Counter<long> KnownUnavailable { get; }

    /// <summary>
    /// The counters on <paramref name="meter"/>, created once per meter (every pipeline passes the same one);
    /// a stage created directly, outside a pipeline (tests), uses a meter of the same name.
    /// </summary>
    public static RedisLockTelemetry For(Meter? meter)
    {
        meter ??= DirectMeter.Value;
        var last = Volatile.Read(ref _last);
        if (last is not null && ReferenceEquals(last.Meter, meter))
        {
            return last;
        }

        var created = new RedisLockTelemetry(meter);
        Volatile.Write(ref _last, created);
        return created;
    }

    public static KeyValuePair<string, object?> Stage(string name) => new(DualLockTelemetry.StageTag, name);
}
