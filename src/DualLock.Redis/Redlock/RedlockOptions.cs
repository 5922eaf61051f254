namespace DualLock.Redis;

/// <summary>Options of the Redlock stage (<see cref="RedisPipelineBuilderExtensions.AddRedlock"/>).</summary>
public sealed class RedlockOptions : LockStageOptions
{
    /// <summary>Initializes a new instance of the <see cref="RedlockOptions"/> class; the stage name defaults to <c>redlock</c>.</summary>
    public RedlockOptions()
        : base("redlock")
    {
    }

    /// <summary>Gets or sets the prefix of every Redis key the stage uses (same layout as <see cref="RedisLockOptions.KeyPrefix"/>).</summary>
    /// <value>Default: <c>duallock</c>.</value>
    public string KeyPrefix { get; set; } = "duallock";

    /// <summary>Gets or sets the lease on each node.</summary>
    /// <value>Default: 10 seconds.</value>
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets how often the lease is extended on every node while the work runs.</summary>
    /// <value>
    /// Default: <see langword="null"/>, meaning a third of <see cref="Lease"/>. A Redlock renewal is bounded by
    /// 2 x <see cref="OperationTimeout"/>, so <c>max(RenewalInterval, 2 x OperationTimeout) + 2 x OperationTimeout &lt; Lease</c>
    /// is required: a lost lease is then noticed before it can end (see <see cref="RedisLockOptions.OperationTimeout"/>).
    /// </value>
    public TimeSpan? RenewalInterval { get; set; }

    /// <summary>Gets or sets the longest time one holder may keep the lock.</summary>
    /// <value>Default: 5 minutes.</value>
    public TimeSpan MaxHoldTime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Gets or sets the bound on each node's answer; a node that does not answer in time counts as down.</summary>
    /// <value>Default: 500 ms.</value>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Gets or sets the share of the lease assumed lost to clock drift between the nodes.</summary>
    /// <value>Default: 0.01 (plus 2 ms). The lock is valid only if the majority answered within lease minus elapsed minus drift.</value>
    public double ClockDriftFactor { get; set; } = 0.01;

    /// <summary>Gets or sets the longest random pause between attempts while the lock is held elsewhere.</summary>
    /// <value>Default: 50 ms.</value>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMilliseconds(50);

    internal RedlockOptions Clone() => (RedlockOptions)MemberwiseClone();

    /// <inheritdoc />
    protected override string? FindProblem()
    {
        try
        {
            Validate();
            return null;
        }
        catch (ArgumentException ex)
        {
            return ex.Message;
        }
    }

    internal void Validate()
    {
        // The lease-related rules are the single-node stage's; reuse them so the messages match.
        var common = new RedisLockOptions
        {
            Name = Name,
            KeyPrefix = KeyPrefix,
            Lease = Lease,
            RenewalInterval = RenewalInterval,
            MaxHoldTime = MaxHoldTime,
            OperationTimeout = OperationTimeout,
            MaxHandoffTime = TimeSpan.Zero,
            RecheckInterval = TimeSpan.FromMilliseconds(1),
        };
        if (common.Problem() is { } problem)
        {
            throw new ArgumentException(problem.Replace("RedisLockOptions.", "RedlockOptions.", StringComparison.Ordinal));
        }

        if (RedisLockOptions.RenewalProblem("RedlockOptions", Lease, RenewalInterval ?? Lease / 3, OperationTimeout * 2, "2 x OperationTimeout") is { } lossTooLate)
        {
            throw new ArgumentException(lossTooLate);
        }

        if (ClockDriftFactor is < 0 or >= 0.5 || double.IsNaN(ClockDriftFactor))
        {
            throw new ArgumentException($"RedlockOptions.ClockDriftFactor must be between 0 and 0.5 (was {ClockDriftFactor}).");
        }

        if (MaxRetryDelay < TimeSpan.FromMilliseconds(1) || MaxRetryDelay > Lease)
        {
            throw new ArgumentException($"RedlockOptions.MaxRetryDelay must be between 1 ms and the lease ({Lease}) (was {MaxRetryDelay}).");
        }
    }
}
