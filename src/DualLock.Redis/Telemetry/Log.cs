using Microsoft.Extensions.Logging;

namespace DualLock.Redis;

/// <summary>Log messages of the Redis package: event ids 2000-2099. Keys appear only at Debug.</summary>
internal static partial class Log
{
    [LoggerMessage(2000, LogLevel.Warning, "The '{Stage}' lock on resource '{Resource}' was lost: {Reason}")]
    public static partial void LeaseLost(ILogger logger, string stage, string resource, string reason);

    [LoggerMessage(2001, LogLevel.Debug, "Renewing the '{Stage}' lock on {Key} failed; retrying at the next renewal")]
    public static partial void RenewalFailed(ILogger logger, string stage, LockKey key, Exception exception);

    [LoggerMessage(2002, LogLevel.Warning, "Releasing the '{Stage}' lock on resource '{Resource}' failed; it ends with its lease")]
    public static partial void ReleaseFailed(ILogger logger, string stage, string resource, Exception exception);

    [LoggerMessage(2003, LogLevel.Debug, "Subscribing to the release channel of {Key} failed; the '{Stage}' waiters poll instead")]
    public static partial void SubscribeFailed(ILogger logger, string stage, LockKey key, Exception exception);

    [LoggerMessage(2004, LogLevel.Warning, "Too many callers wait for the '{Stage}' lock on resource '{Resource}' in this process (limit {Limit}); refused")]
    public static partial void LocalQueueFull(ILogger logger, string stage, string resource, int limit);

    [LoggerMessage(2005, LogLevel.Debug, "Handed the '{Stage}' lock on {Key} to a local waiter ({Handoffs} in a row)")]
    public static partial void HandedOff(ILogger logger, string stage, LockKey key, int handoffs);

    [LoggerMessage(2006, LogLevel.Warning, "The '{Stage}' lock on resource '{Resource}' got {Granted} of {Nodes} nodes (quorum {Quorum}); released")]
    public static partial void QuorumMissed(ILogger logger, string stage, string resource, int granted, int nodes, int quorum);

    [LoggerMessage(2050, LogLevel.Warning, "A Redlock node of the '{Stage}' lock on resource '{Resource}' answered with an error; counted as a node that did not grant")]
    public static partial void NodeFailed(ILogger logger, string stage, string resource, Exception exception);

    [LoggerMessage(2007, LogLevel.Warning, "Redis is unavailable for the '{Stage}' lock; acquires there fail at once until a probe (every {ProbeIntervalMs} ms) gets an answer")]
    public static partial void OutageKnown(ILogger logger, string stage, double probeIntervalMs, Exception exception);

    [LoggerMessage(2008, LogLevel.Information, "Redis answers the '{Stage}' lock again after an outage of {OutageMs:0} ms")]
    public static partial void OutageOver(ILogger logger, string stage, double outageMs);
}
