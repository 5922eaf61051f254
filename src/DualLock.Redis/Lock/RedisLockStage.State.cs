namespace DualLock.Redis;

internal sealed partial class RedisLockStage : ILockServiceMonitor
{
    /// <summary>
    /// The outage acquires fail fast on (the one known longest), else a connection that reports no server: killed
    /// Redis shows here at once, before any call fails on it. Reads state only; the probe ends a known outage.
    /// </summary>
    public LockServiceOutage? CurrentOutage
    {
        get
        {
            if (_outages.Oldest() is { } outage)
            {
                return new LockServiceOutage(_time.GetUtcNow() - _time.GetElapsedTime(outage.Since), outage.Cause.Message);
            }

            return _redis.IsConnected ? null : Disconnected(_time);
        }
    }

    /// <summary>A connection that reports no Redis server connected, before any call failed on it.</summary>
    internal static LockServiceOutage Disconnected(TimeProvider time)
        => new(time.GetUtcNow(), "The connection reports no Redis server connected.");
}
