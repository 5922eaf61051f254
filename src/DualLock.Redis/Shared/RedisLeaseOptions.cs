namespace DualLock.Redis;

/// <summary>
/// The lease settings every Redis stage shares: where its keys live, how long a lease lasts, how it is
/// renewed and how long one Redis call may take. The Redis lock (<see cref="RedisLockOptions"/>), the
/// Redlock quorum (<see cref="RedlockOptions"/>), the Redis semaphore (<see cref="RedisSemaphoreOptions"/>) and
/// the Redis reader-writer lock (<see cref="RedisReaderWriterLockOptions"/>) each add only what they use.
/// </summary>
public abstract class RedisLeaseOptions : LockStageOptions
{
    /// <summary>The longest accepted <see cref="Lease"/> and <see cref="MaxHoldTime"/>.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromHours(24);

    private static readonly TimeSpan MinLease = TimeSpan.FromMilliseconds(100);

    private protected RedisLeaseOptions(string defaultName, TimeSpan operationTimeout)
        : base(defaultName)
        => OperationTimeout = operationTimeout;

    /// <summary>Gets or sets the prefix of every Redis key and channel the stage uses.</summary>
    /// <value>Default: <c>duallock</c>. The lock of <c>user-point:42</c> is <c>duallock:{user-point:42}</c>. Must not contain braces or whitespace.</value>
    public string KeyPrefix { get; set; } = "duallock";

    /// <summary>Gets or sets how long a lease lives in Redis without renewal: the bound on how long a crashed holder blocks others.</summary>
    /// <value>Default: 10 seconds. Between 100 ms and <see cref="MaxDuration"/>.</value>
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets how often the lease is extended while the work runs.</summary>
    /// <value>
    /// Default: <see langword="null"/>, meaning a third of <see cref="Lease"/>. Together with
    /// <see cref="OperationTimeout"/> it must satisfy
    /// <c>max(RenewalInterval, OperationTimeout) + OperationTimeout &lt; Lease</c> (for Redlock, whose renewal
    /// is bounded by twice the operation timeout, <c>max(RenewalInterval, 2 x OperationTimeout) + 2 x OperationTimeout &lt; Lease</c>),
    /// so a lost lease is noticed before it can end (see <see cref="OperationTimeout"/>).
    /// </value>
    public TimeSpan? RenewalInterval { get; set; }

    /// <summary>Gets or sets the longest time one holder may keep the lease; after it renewal stops and the lease-lost token fires.</summary>
    /// <value>Default: 5 minutes. At least <see cref="Lease"/>, at most <see cref="MaxDuration"/>.</value>
    public TimeSpan MaxHoldTime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Gets or sets the bound on every Redis call: a call that does not answer in time makes the acquire fail
    /// with <see cref="LockUnavailableException"/> (for Redlock, the node counts as down).
    /// </summary>
    /// <value>
    /// Default: 1 second (500 ms for <see cref="RedlockOptions"/>). Positive, shorter than <see cref="Lease"/>, and
    /// within the renewal rule of <see cref="RenewalInterval"/>: a renewal starts <see cref="RenewalInterval"/> after
    /// the previous one was sent (at once if that one took longer) and fails within this bound; after a failed
    /// renewal the lease is declared lost when the next could answer only after the lease may have ended, and the
    /// rule makes that declaration come while the lease still runs. An acquire attempt is bounded by the smaller
    /// of this and the wait left.
    /// </value>
    public TimeSpan OperationTimeout { get; set; }

    internal TimeSpan EffectiveRenewalInterval => RenewalInterval ?? Lease / 3;

    /// <summary>Gets whether <see cref="Lease"/> is in range, so the rules relative to it can be checked.</summary>
    private protected bool LeaseInRange => Lease >= MinLease && Lease <= MaxDuration;

    /// <summary>Gets the bound on one renewal call and how the renewal rule names it.</summary>
    private protected virtual (TimeSpan Bound, string Name) RenewalCallBound => (OperationTimeout, nameof(OperationTimeout));

    /// <summary>The rules of the settings of a stage whose callers wait in this process (every Redis stage but Redlock).</summary>
    private protected void ValidateLocalWait(OptionChecks check, TimeSpan recheckInterval, int? maxQueueLength)
    {
        if (maxQueueLength is { } max)
        {
            check.AtLeast("MaxQueueLength", max, 1);
        }

        if (LeaseInRange) // the lease reports its own problem; the rules relative to it would only echo it
        {
            check.Between("RecheckInterval", recheckInterval, TimeSpan.FromMilliseconds(1), Lease, "the upper bound is the lease");
        }
    }

    /// <inheritdoc />
    protected override void Validate(ICollection<string> problems)
    {
        base.Validate(problems);
        var check = OptionChecks.For(this, problems);
        check.That(
            !string.IsNullOrEmpty(KeyPrefix) && !KeyPrefix.Any(c => c is '{' or '}' || char.IsWhiteSpace(c) || char.IsControl(c)),
            nameof(KeyPrefix),
            KeyPrefix,
            "must be non-empty without braces, whitespace or control characters");
        if (!check.Between(nameof(Lease), Lease, MinLease, MaxDuration))
        {
            return; // the rules below are relative to the lease
        }

        check.Between(nameof(MaxHoldTime), MaxHoldTime, Lease, MaxDuration, "it starts at the lease");
        var renewal = EffectiveRenewalInterval;
        var renewalValid = check.That(renewal > TimeSpan.Zero && renewal < Lease, nameof(RenewalInterval), renewal, $"must be positive and shorter than Lease ({OptionChecks.Format(Lease)})", "or the lease ends before it is renewed");
        var callValid = check.That(OperationTimeout > TimeSpan.Zero && OperationTimeout < Lease, nameof(OperationTimeout), OperationTimeout, $"must be positive and shorter than Lease ({OptionChecks.Format(Lease)})");
        if (renewalValid && callValid)
        {
            // A lost lease must be noticed before it can end: max(renewal, call) + call < lease.
            var (call, callName) = RenewalCallBound;
            var latest = (renewal > call ? renewal : call) + call;
            check.That(
                latest < Lease,
                nameof(RenewalInterval),
                renewal,
                $"and OperationTimeout must satisfy max(RenewalInterval, {callName}) + {callName} < Lease ({OptionChecks.Format(Lease)}), but that sum is {OptionChecks.Format(latest)}",
                $"after a failed renewal the next starts RenewalInterval later (at once if the failed one took longer) and may take {callName} to answer, " +
                "so a lost lease could be noticed only after it ended. Shorten RenewalInterval or OperationTimeout, or lengthen Lease");
        }
    }
}
