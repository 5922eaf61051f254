namespace DualLock.Redis;

/// <summary>Options of the Redis semaphore stage (<see cref="RedisSemaphorePipelineBuilderExtensions.AddRedisSemaphore"/>).</summary>
public sealed class RedisSemaphoreOptions : RedisLeaseOptions
{
    /// <summary>Initializes a new instance of the <see cref="RedisSemaphoreOptions"/> class; the stage name defaults to <c>redis-semaphore</c>.</summary>
    public RedisSemaphoreOptions()
        : base("redis-semaphore", TimeSpan.FromSeconds(1))
    {
    }

    /// <summary>Gets or sets how often a waiter re-checks Redis when no release message arrives (a lost pub/sub message costs at most this much).</summary>
    /// <value>Default: 100 ms. Between 1 ms and <see cref="RedisLeaseOptions.Lease"/>.</value>
    public TimeSpan RecheckInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Gets or sets how many callers of this process may hold or wait for one key at once; more are refused at once (a <see cref="LockTimeoutException"/>).</summary>
    /// <value>Default: 1,024. At least 1.</value>
    public int MaxQueueLength { get; set; } = 1024;

    /// <inheritdoc />
    protected override void Validate(ICollection<string> problems)
    {
        base.Validate(problems);
        ValidateLocalWait(OptionChecks.For(this, problems), RecheckInterval, MaxQueueLength);
    }
}
