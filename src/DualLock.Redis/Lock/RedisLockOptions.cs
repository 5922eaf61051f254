using StackExchange.Redis;

namespace DualLock.Redis;

/// <summary>Options of the Redis lock stage (<see cref="RedisPipelineBuilderExtensions.AddRedisLock(LockPipelineBuilder, IConnectionMultiplexer, RedisLockOptions?)"/>).</summary>
/// <remarks>
/// The wait timeout is the pipeline's (<see cref="LockPipelineOptions.WaitTimeout"/>): the stage
/// waits for what is left of it. Everything here is validated when the stage is added.
/// </remarks>
public sealed class RedisLockOptions : RedisLeaseOptions
{
    /// <summary>Initializes a new instance of the <see cref="RedisLockOptions"/> class; the stage name defaults to <c>redis</c>.</summary>
    public RedisLockOptions()
        : base("redis", TimeSpan.FromSeconds(1))
    {
    }

    /// <summary>Gets or sets how many callers of this process may hold or wait for one key at once; more are refused at once (a <see cref="LockTimeoutException"/>).</summary>
    /// <value>Default: 1,024. At least 1.</value>
    public int MaxQueueLength { get; set; } = 1024;

    /// <summary>
    /// Gets or sets how many times in a row the lock may pass to a waiter of this process without going
    /// back to Redis. At the end of such a period one round trip keeps the lock when no other process
    /// waits, or releases it to the one that does.
    /// </summary>
    /// <value>
    /// Default: 32. Zero disables local hand-off. Larger values serve this process's waiters with fewer
    /// Redis round trips; smaller ones pass the lock to other processes sooner.
    /// </value>
    public int MaxConsecutiveHandoffs { get; set; } = 32;

    /// <summary>Gets or sets how long after a Redis acquire (or after the lock was last kept) the lock may still pass to a waiter of this process without going back to Redis.</summary>
    /// <value>Default: 50 ms. Other processes wait at most about this long (plus one hold) for their turn.</value>
    public TimeSpan MaxHandoffTime { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Gets or sets how often a waiter re-checks Redis when no release message arrives (a lost pub/sub message costs at most this much).</summary>
    /// <value>Default: 100 ms. Between 1 ms and <see cref="RedisLeaseOptions.Lease"/>.</value>
    public TimeSpan RecheckInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Gets or sets how often, while Redis is known to be unavailable for a key's server, one probe checks
    /// whether it is back. Meanwhile acquires on that server fail at once with <see cref="LockUnavailableException"/>
    /// instead of each waiting <see cref="RedisLeaseOptions.OperationTimeout"/> (a dual pipeline falls back at once). The outage is
    /// known after one call failed or timed out, or as soon as the connection reports the server disconnected.
    /// </summary>
    /// <value>Default: 200 ms. Between 10 ms and 10 seconds. Acquires resume about this long (plus the probe's round trip) after Redis answers again.</value>
    public TimeSpan OutageProbeInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Gets or sets how many replicas must acknowledge the lock's write (Redis <c>WAIT</c>) before an acquire
    /// from Redis succeeds, so that a failover to one of them does not forget the lock. When fewer acknowledge
    /// within half of <see cref="RedisLeaseOptions.OperationTimeout"/>, the lock is released and the acquire fails with
    /// <see cref="LockUnavailableException"/> (a dual pipeline falls back to its database lock).
    /// </summary>
    /// <value>
    /// Default: 0 (off: replication stays asynchronous, and a failover may lose a lock just taken). Between 0
    /// and 16. WAIT blocks the connection it is sent on, so while a replica is slow every command of the
    /// multiplexer waits behind it for up to its timeout. A lock passed to a waiter of this process without
    /// a new Redis acquire is covered by the acquire that took it; renewals are not waited for.
    /// </value>
    public int WaitForReplicas { get; set; }

    /// <inheritdoc />
    protected override void Validate(ICollection<string> problems)
    {
        base.Validate(problems);
        var check = OptionChecks.For(this, problems);
        check.Between(nameof(WaitForReplicas), WaitForReplicas, 0, 16);
        check.Between(nameof(OutageProbeInterval), OutageProbeInterval, TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(10));
        ValidateLocalWait(check, RecheckInterval, MaxQueueLength);
        check.AtLeast(nameof(MaxConsecutiveHandoffs), MaxConsecutiveHandoffs, 0);
        if (LeaseInRange)
        {
            check.That(MaxHandoffTime >= TimeSpan.Zero && MaxHandoffTime < Lease, nameof(MaxHandoffTime), MaxHandoffTime, $"must be at least zero and shorter than Lease ({OptionChecks.Format(Lease)})");
        }
    }
}
