using StackExchange.Redis;

namespace DualLock.Redis;

/// <summary>Options of the Redis lock stage (<see cref="RedisPipelineBuilderExtensions.AddRedisLock(LockPipelineBuilder, IConnectionMultiplexer, RedisLockOptions?)"/>).</summary>
/// <remarks>
/// The wait timeout is the pipeline's (<see cref="LockPipelineOptions.WaitTimeout"/>): the stage
/// waits for what is left of it. Everything here is validated when the stage is added.
/// </remarks>
public sealed class RedisLockOptions : LockStageOptions
{
    /// <summary>The longest accepted <see cref="Lease"/> and <see cref="MaxHoldTime"/>.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromHours(24);

    /// <summary>Initializes a new instance of the <see cref="RedisLockOptions"/> class; the stage name defaults to <c>redis</c>.</summary>
    public RedisLockOptions()
        : base("redis")
    {
    }

    /// <summary>Gets or sets the prefix of every Redis key and channel the stage uses.</summary>
    /// <value>Default: <c>duallock</c>. The lock of <c>user-point:42</c> is <c>duallock:{user-point:42}</c>. Must not contain braces or whitespace.</value>
    public string KeyPrefix { get; set; } = "duallock";

    /// <summary>Gets or sets how long the lock lives in Redis without renewal: the bound on how long a crashed holder blocks others.</summary>
    /// <value>Default: 10 seconds. Between 100 ms and <see cref="MaxDuration"/>.</value>
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets how often the lease is extended while the work runs.</summary>
    /// <value>
    /// Default: <see langword="null"/>, meaning a third of <see cref="Lease"/>. Together with
    /// <see cref="OperationTimeout"/> it must satisfy
    /// <c>max(RenewalInterval, OperationTimeout) + OperationTimeout &lt; Lease</c>, so a lost lease is
    /// noticed before it can end (see <see cref="OperationTimeout"/>).
    /// </value>
    public TimeSpan? RenewalInterval { get; set; }

    /// <summary>Gets or sets the longest time one holder may keep the lock; after it renewal stops and the lease-lost token fires.</summary>
    /// <value>Default: 5 minutes. At least <see cref="Lease"/>, at most <see cref="MaxDuration"/>.</value>
    public TimeSpan MaxHoldTime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Gets or sets the bound on every Redis call: a call that does not answer in time makes the acquire fail with <see cref="LockUnavailableException"/>.</summary>
    /// <value>
    /// Default: 1 second. Positive, and <c>max(RenewalInterval, OperationTimeout) + OperationTimeout &lt; Lease</c>:
    /// a renewal starts <see cref="RenewalInterval"/> after the previous one was sent (at once if that one took
    /// longer) and fails within this bound; after a failed renewal the lease is declared lost when the next
    /// could answer only after the lease may have ended, and this inequality makes that declaration come
    /// while the lease still runs. An acquire attempt is bounded by the smaller of this and the wait left.
    /// </value>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets how many callers of this process may wait for one key; more are refused at once (a <see cref="LockTimeoutException"/>).</summary>
    /// <value>Default: 1,000. At least 1.</value>
    public int MaxLocalWaiters { get; set; } = 1000;

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
    /// <value>Default: 100 ms. Between 1 ms and <see cref="Lease"/>.</value>
    public TimeSpan RecheckInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Gets or sets how often, while Redis is known to be unavailable for a key's server, one probe checks
    /// whether it is back. Meanwhile acquires on that server fail at once with <see cref="LockUnavailableException"/>
    /// instead of each waiting <see cref="OperationTimeout"/> (a dual pipeline falls back at once). The outage is
    /// known after one call failed or timed out, or as soon as the connection reports the server disconnected.
    /// </summary>
    /// <value>Default: 200 ms. Between 10 ms and 10 seconds. Acquires resume about this long (plus the probe's round trip) after Redis answers again.</value>
    public TimeSpan OutageProbeInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Gets or sets how many replicas must acknowledge the lock's write (Redis <c>WAIT</c>) before an acquire
    /// from Redis succeeds, so that a failover to one of them does not forget the lock. When fewer acknowledge
    /// within half of <see cref="OperationTimeout"/>, the lock is released and the acquire fails with
    /// <see cref="LockUnavailableException"/> (a dual pipeline falls back to its database lock).
    /// </summary>
    /// <value>
    /// Default: 0 (off: replication stays asynchronous, and a failover may lose a lock just taken). Between 0
    /// and 16. WAIT blocks the connection it is sent on, so while a replica is slow every command of the
    /// multiplexer waits behind it for up to its timeout. A lock passed to a waiter of this process without
    /// a new Redis acquire is covered by the acquire that took it; renewals are not waited for.
    /// </value>
    public int WaitForReplicas { get; set; }

    internal TimeSpan EffectiveRenewalInterval => RenewalInterval ?? Lease / 3;

    internal RedisLockOptions Clone() => (RedisLockOptions)MemberwiseClone();

    internal void Validate()
    {
        if (Problem() is { } problem)
        {
            throw new ArgumentException(problem);
        }
    }

    /// <inheritdoc />
    protected override string? FindProblem() => Problem();

    /// <summary>Returns what is wrong with the options, the name included, or <see langword="null"/>.</summary>
    internal string? Problem()
    {
        if (string.IsNullOrWhiteSpace(Name))
        {
            return "RedisLockOptions.Name must not be empty.";
        }

        if (string.IsNullOrEmpty(KeyPrefix) || KeyPrefix.Any(c => c is '{' or '}' || char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            return $"RedisLockOptions.KeyPrefix must be non-empty without braces, whitespace or control characters (was '{KeyPrefix}').";
        }

        if (Lease < TimeSpan.FromMilliseconds(100) || Lease > MaxDuration)
        {
            return $"RedisLockOptions.Lease must be between 100 ms and {MaxDuration.TotalHours:0} hours (was {Lease}).";
        }

        var renewal = EffectiveRenewalInterval;
        if (renewal <= TimeSpan.Zero || renewal >= Lease)
        {
            return $"RedisLockOptions.RenewalInterval must be positive and shorter than the lease ({Lease}), or the lease ends before it is renewed (was {renewal}).";
        }

        if (WaitForReplicas is < 0 or > 16)
        {
            return $"RedisLockOptions.WaitForReplicas must be between 0 (off) and 16 (was {WaitForReplicas}).";
        }

        if (MaxHoldTime < Lease || MaxHoldTime > MaxDuration)
        {
            return $"RedisLockOptions.MaxHoldTime must be between the lease ({Lease}) and {MaxDuration.TotalHours:0} hours (was {MaxHoldTime}).";
        }

        if (OperationTimeout <= TimeSpan.Zero || OperationTimeout >= Lease)
        {
            return $"RedisLockOptions.OperationTimeout must be positive and shorter than the lease ({Lease}) (was {OperationTimeout}).";
        }

        if (RenewalProblem("RedisLockOptions", Lease, renewal, OperationTimeout, "OperationTimeout") is { } lossTooLate)
        {
            return lossTooLate;
        }

        if (OutageProbeInterval < TimeSpan.FromMilliseconds(10) || OutageProbeInterval > TimeSpan.FromSeconds(10))
        {
            return $"RedisLockOptions.OutageProbeInterval must be between 10 ms and 10 seconds (was {OutageProbeInterval}).";
        }

        if (MaxLocalWaiters < 1)
        {
            return $"RedisLockOptions.MaxLocalWaiters must be at least 1 (was {MaxLocalWaiters}).";
        }

        if (MaxConsecutiveHandoffs < 0)
        {
            return $"RedisLockOptions.MaxConsecutiveHandoffs must not be negative (was {MaxConsecutiveHandoffs}).";
        }

        if (MaxHandoffTime < TimeSpan.Zero || MaxHandoffTime >= Lease)
        {
            return $"RedisLockOptions.MaxHandoffTime must be between zero and the lease ({Lease}) (was {MaxHandoffTime}).";
        }

        if (RecheckInterval < TimeSpan.FromMilliseconds(1) || RecheckInterval > Lease)
        {
            return $"RedisLockOptions.RecheckInterval must be between 1 ms and the lease ({Lease}) (was {RecheckInterval}).";
        }

        return null;
    }

    /// <summary>
    /// The rule that a lost lease is noticed before it can end: <c>max(renewal, callBound) + callBound &lt; lease</c>,
    /// where <paramref name="callBound"/> bounds one renewal call. See <see cref="OperationTimeout"/>.
    /// </summary>
    internal static string? RenewalProblem(string type, TimeSpan lease, TimeSpan renewal, TimeSpan callBound, string callBoundName)
    {
        var latest = (renewal > callBound ? renewal : callBound) + callBound;
        return latest < lease
            ? null
            : $"{type}.RenewalInterval ({renewal}) and OperationTimeout must satisfy max(RenewalInterval, {callBoundName}) + {callBoundName} < Lease " +
              $"(was {latest} >= {lease}): after a failed renewal the next starts RenewalInterval later (at once if the failed one took longer) " +
              $"and may take {callBoundName} to answer, so a lost lease could be noticed only after it ended. Shorten RenewalInterval or OperationTimeout, or lengthen Lease.";
    }
}
