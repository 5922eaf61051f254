using System.Diagnostics.Metrics;
using DualLock.Telemetry;

namespace DualLock.MySql;

/// <summary>The MySQL package's counters, on the shared DualLock meter.</summary>
internal static class MySqlTelemetry
{
    public static readonly Counter<long> FenceRejected = DualLockTelemetry.CreateCounter(
        "duallock.mysql.fence.rejected", "Transactions refused when they began because a newer fencing token was already recorded for the key.");

    public static readonly Counter<long> NamedLockLost = DualLockTelemetry.CreateCounter(
        "duallock.mysql.named_lock.lost", "Named locks found lost while held (their session dropped, or RELEASE_LOCK found them gone).");

    public static readonly Counter<long> OptimisticConflicts = DualLockTelemetry.CreateCounter(
        "duallock.mysql.optimistic.conflicts", "Optimistic attempts whose compare-and-set found the version changed.");
}
