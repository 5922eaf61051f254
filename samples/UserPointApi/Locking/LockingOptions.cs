namespace UserPointApi.Locking;

/// <summary>The <c>Locking</c> configuration section (environment: <c>Locking__Strategy</c>, <c>Locking__Endpoints__charge</c> ...).</summary>
public sealed class LockingOptions
{
    public const string Section = "Locking";

    /// <summary>The write operations; each has its own pipeline, registered under this name (<c>local</c> shares one, see <see cref="StrategyWiring"/>).</summary>
    /// <remarks><c>transfer</c> locks two keys, the sender's and the receiver's, in one canonical order.</remarks>
    public static readonly IReadOnlyList<string> Operations = ["charge", "use", "refund", "transfer"];

    /// <summary>Gets or sets the default strategy: none, local, pessimistic, distributed, redlock, dual, named, optimistic, atomic or combined.</summary>
    /// <value>Default: <c>dual</c>.</value>
    public string Strategy { get; set; } = "dual";

    /// <summary>Gets per-operation overrides (<c>charge</c>, <c>use</c>, <c>refund</c>, <c>transfer</c>).</summary>
    public Dictionary<string, string> Endpoints { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Gets or sets the lock key granularity: <c>user</c> (every write of a user) or <c>user-operation</c>.</summary>
    /// <value>
    /// Default: <c>user</c>. <c>user-operation</c> lets a charge and a use of the same user run at
    /// once: correct only where a row lock or a conditional update still serialises them (dual,
    /// pessimistic, atomic, optimistic), a demonstration of finer keys, not a recommendation.
    /// </value>
    public string KeyScope { get; set; } = "user";

    /// <summary>Gets or sets the longest a write waits for its lock (or keeps retrying, optimistic), in milliseconds.</summary>
    /// <value>Default: 2,000.</value>
    public int WaitTimeoutMs { get; set; } = 2000;

    /// <summary>Gets or sets the Redis lease, in milliseconds (renewed while the work runs).</summary>
    /// <value>Default: 10,000. At least 500.</value>
    public int LeaseMs { get; set; } = 10_000;

    /// <summary>Gets the lease as a time span.</summary>
    public TimeSpan Lease => TimeSpan.FromMilliseconds(LeaseMs);

    /// <summary>
    /// Gets the bound on each Redis call: 1 s, or a fifth of a shorter lease, so a lost renewal is always
    /// noticed before the lease can end (the Redis stages refuse options where it could not be).
    /// </summary>
    public TimeSpan RedisOperationTimeout => Lease / 5 < TimeSpan.FromSeconds(1) ? Lease / 5 : TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets how many times the optimistic strategy runs a write before it gives up (503 LOCK_TIMEOUT).</summary>
    /// <value>Default: 50.</value>
    public int OptimisticMaxAttempts { get; set; } = 50;

    /// <summary>
    /// Gets or sets an artificial delay between reading the balance and writing it, in milliseconds.
    /// FOR TESTS AND COMPARISONS ONLY: it widens the race window so the negative controls visibly lose
    /// updates; every strategy gets the same delay so the comparison stays fair.
    /// </summary>
    /// <value>Default: 0.</value>
    public int RaceWindowMs { get; set; }

    /// <summary>Returns the strategy of an operation, validating the configured text.</summary>
    public LockStrategy StrategyFor(string operation)
        => Parse(Endpoints.TryGetValue(operation, out var value) && !string.IsNullOrWhiteSpace(value) ? value : Strategy, operation);

    /// <summary>Gets a value indicating whether lock keys include the operation.</summary>
    public bool ScopeByOperation => string.Equals(KeyScope, "user-operation", StringComparison.OrdinalIgnoreCase);

    /// <summary>Returns every configuration problem, empty when valid.</summary>
    public IEnumerable<string> Problems()
    {
        foreach (var operation in Operations)
        {
            string? problem = null;
            try
            {
                StrategyFor(operation);
            }
            catch (InvalidOperationException ex)
            {
                problem = ex.Message;
            }

            if (problem is not null)
            {
                yield return problem;
            }
        }

        foreach (var key in Endpoints.Keys)
        {
            if (!Operations.Contains(key, StringComparer.OrdinalIgnoreCase))
            {
                yield return $"Locking:Endpoints:{key} is not an operation; use charge, use, refund or transfer.";
            }
        }

        if (KeyScope is not ("user" or "user-operation"))
        {
            yield return $"Locking:KeyScope must be 'user' or 'user-operation' (was '{KeyScope}').";
        }

        // A charge and a use of one user share the balance: with per-operation keys, only a strategy that still
        // serialises the row (or a conditional update) keeps them from racing.
        if (ScopeByOperation && Operations.Any(o => StrategyProblem(o) is null && StrategyFor(o) is LockStrategy.Local or LockStrategy.Distributed or LockStrategy.Redlock or LockStrategy.Named))
        {
            yield return "Locking:KeyScope 'user-operation' lets a charge and a use of one user run at once; use it only with dual, combined, pessimistic, optimistic, atomic or none.";
        }

        if (WaitTimeoutMs is < 0 or > 60_000)
        {
            yield return $"Locking:WaitTimeoutMs must be between 0 and 60000 (was {WaitTimeoutMs}).";
        }

        if (LeaseMs is < 500 or > 600_000)
        {
            yield return $"Locking:LeaseMs must be between 500 and 600000 (was {LeaseMs}).";
        }

        if (OptimisticMaxAttempts is < 1 or > 10_000)
        {
            yield return $"Locking:OptimisticMaxAttempts must be between 1 and 10000 (was {OptimisticMaxAttempts}).";
        }

        if (RaceWindowMs is < 0 or > 10_000)
        {
            yield return $"Locking:RaceWindowMs must be between 0 and 10000 (was {RaceWindowMs}).";
        }
    }

    private string? StrategyProblem(string operation)
    {
        try
        {
            StrategyFor(operation);
            return null;
        }
        catch (InvalidOperationException ex)
        {
            return ex.Message;
        }
    }

    private static LockStrategy Parse(string text, string operation)
        => Enum.TryParse<LockStrategy>(text, ignoreCase: true, out var strategy) && !int.TryParse(text, out _)
            ? strategy
            : throw new InvalidOperationException(
                $"Locking strategy '{text}' for '{operation}' is unknown; use none, local, pessimistic, distributed, redlock, dual, named, optimistic, atomic or combined.");
}
