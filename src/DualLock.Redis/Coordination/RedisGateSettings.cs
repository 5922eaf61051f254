namespace DualLock.Redis;

/// <summary>What the gate stages read of their options: the lease settings and the local wait, from a semaphore's or a reader-writer lock's options.</summary>
internal sealed class RedisGateSettings(RedisLeaseOptions lease, TimeSpan recheckInterval, int maxQueueLength)
{
    public RedisGateSettings(RedisSemaphoreOptions options)
        : this(options, options.RecheckInterval, options.MaxQueueLength)
    {
    }

    public string Name => lease.Name;

    public string KeyPrefix => lease.KeyPrefix;

    public TimeSpan Lease => lease.Lease;

    public TimeSpan EffectiveRenewalInterval => lease.EffectiveRenewalInterval;

    public TimeSpan MaxHoldTime => lease.MaxHoldTime;

    public TimeSpan OperationTimeout => lease.OperationTimeout;

    public TimeSpan RecheckInterval => recheckInterval;

    /// <summary>Gets how many callers of this process may hold or wait for one key at once.</summary>
    public int MaxQueueLength => maxQueueLength;
}
