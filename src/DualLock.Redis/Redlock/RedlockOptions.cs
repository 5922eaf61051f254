namespace DualLock.Redis;

/// <summary>Options of the Redlock stage (<see cref="RedisPipelineBuilderExtensions.AddRedlock"/>).</summary>
/// <remarks>
/// The lease settings are those of every Redis stage (<see cref="RedisLeaseOptions"/>), except that a Redlock
/// renewal is bounded by twice <see cref="RedisLeaseOptions.OperationTimeout"/> (every node, then the verdict),
/// so the renewal rule uses that bound.
/// </remarks>
public sealed class RedlockOptions : RedisLeaseOptions
{
    /// <summary>Initializes a new instance of the <see cref="RedlockOptions"/> class; the stage name defaults to <c>redlock</c>.</summary>
    public RedlockOptions()
        : base("redlock", TimeSpan.FromMilliseconds(500))
    {
    }

    /// <summary>Gets or sets the share of the lease assumed lost to clock drift between the nodes.</summary>
    /// <value>Default: 0.01 (plus 2 ms). At least 0, below 0.5. The lock is valid only if the majority answered within lease minus elapsed minus drift.</value>
    public double ClockDriftFactor { get; set; } = 0.01;

    /// <summary>Gets or sets the longest random pause between attempts while the lock is held elsewhere.</summary>
    /// <value>Default: 50 ms. Between 1 ms and <see cref="RedisLeaseOptions.Lease"/>.</value>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <inheritdoc />
    private protected override (TimeSpan Bound, string Name) RenewalCallBound => (OperationTimeout * 2, "2 x OperationTimeout");

    /// <inheritdoc />
    protected override void Validate(ICollection<string> problems)
    {
        base.Validate(problems);
        var check = OptionChecks.For(this, problems);
        check.That(ClockDriftFactor is >= 0 and < 0.5, nameof(ClockDriftFactor), ClockDriftFactor, "must be at least 0 and below 0.5");
        if (LeaseInRange)
        {
            check.Between(nameof(MaxRetryDelay), MaxRetryDelay, TimeSpan.FromMilliseconds(1), Lease, "the upper bound is the lease");
        }
    }
}
