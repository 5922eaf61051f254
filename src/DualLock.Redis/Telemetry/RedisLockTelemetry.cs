using System.Diagnostics.Metrics;
using DualLock.Telemetry;

namespace DualLock.Redis;

/// <summary>The Redis stage's counters, on the shared <c>DualLock</c> meter.</summary>
internal static class RedisLockTelemetry
{
    public static readonly Counter<long> Handoffs = DualLockTelemetry.CreateCounter(
        "duallock.redis.handoffs", "Locks passed to a waiter of the same process without a Redis round trip.");

    public static readonly Counter<long> WakeUps = DualLockTelemetry.CreateCounter(
        "duallock.redis.wakeups", "Waiters woken by a release message.");

    public static readonly Counter<long> Rechecks = DualLockTelemetry.CreateCounter(
        "duallock.redis.rechecks", "Waiters that re-checked Redis because no release message arrived in time.");

    public static readonly Counter<long> LeaseLost = DualLockTelemetry.CreateCounter(
        "duallock.redis.lease.lost", "Redis leases found lost (deleted, expired, taken over or held past the maximum hold time).");

    public static readonly Counter<long> QueueFull = DualLockTelemetry.CreateCounter(
        "duallock.redis.queue.full", "Callers refused at once because too many waited for the key in this process.");

    public static readonly Counter<long> KnownUnavailable = DualLockTelemetry.CreateCounter(
        "duallock.redis.unavailable.known", "Acquires refused at once, without a Redis call, because Redis was known to be unavailable.");

    public static KeyValuePair<string, object?> Stage(string name) => new(DualLockTelemetry.StageTag, name);
}
