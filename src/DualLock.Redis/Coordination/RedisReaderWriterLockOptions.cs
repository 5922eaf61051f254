namespace DualLock.Redis;

/// <summary>
/// The Redis settings of a Redis reader-writer lock (<see cref="RedisReaderWriterLock.Create"/>); its name, default
/// wait and local queue limit are the <see cref="ReaderWriterLockOptions"/>, as for the in-process one.
/// </summary>
public sealed class RedisReaderWriterLockOptions : RedisLeaseOptions
{
    /// <summary>Initializes a new instance of the <see cref="RedisReaderWriterLockOptions"/> class; the stage name defaults to <c>redis-reader-writer</c>.</summary>
    public RedisReaderWriterLockOptions()
        : base("redis-reader-writer", TimeSpan.FromSeconds(1))
    {
    }

    /// <summary>Gets or sets how often a waiter re-checks Redis when no release message arrives (a lost pub/sub message costs at most this much).</summary>
    /// <value>Default: 100 ms. Between 1 ms and <see cref="RedisLeaseOptions.Lease"/>.</value>
    public TimeSpan RecheckInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <inheritdoc />
    protected override void Validate(ICollection<string> problems)
    {
        base.Validate(problems);
        ValidateLocalWait(OptionChecks.For(this, problems), RecheckInterval, maxQueueLength: null);
    }
}
