using System.Data;

namespace DualLock.PostgreSql;

/// <summary>Options of the optimistic strategy <c>AddPostgresOptimisticStrategy</c> registers: a PostgreSQL transaction per attempt, re-run after a conflict.</summary>
public sealed class PostgresOptimisticOptions
{
    /// <summary>Gets or sets the Npgsql connection string.</summary>
    /// <value>Required. Default: <see langword="null"/>.</value>
    public string? ConnectionString { get; set; }

    /// <summary>Gets or sets the isolation level of each attempt's transaction.</summary>
    /// <value>Default: <see cref="IsolationLevel.ReadCommitted"/>: each attempt reads the latest committed version. Under RepeatableRead or Serializable a serialization failure (40001) is a conflict too, and re-runs the attempt.</value>
    public IsolationLevel IsolationLevel { get; set; } = IsolationLevel.ReadCommitted;

    /// <summary>Gets or sets how many times the work may run before <see cref="LockConflictException"/> is thrown.</summary>
    /// <value>Default: 10. Between 1 and 10,000.</value>
    public int MaxAttempts { get; set; } = 10;

    /// <summary>Gets or sets the first backoff after a conflict; later ones double, with full jitter.</summary>
    /// <value>Default: 5 ms.</value>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Gets or sets the longest backoff after a conflict.</summary>
    /// <value>Default: 200 ms.</value>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Adds every problem with these options to <paramref name="problems"/>.</summary>
    internal void Validate(ICollection<string> problems)
    {
        var check = OptionChecks.For(this, problems);
        check.ConnectionString(nameof(ConnectionString), ConnectionString);
        check.That(
            IsolationLevel is IsolationLevel.ReadCommitted or IsolationLevel.RepeatableRead or IsolationLevel.Serializable,
            nameof(IsolationLevel),
            IsolationLevel,
            "must be ReadCommitted, RepeatableRead or Serializable");
        check.Between(nameof(MaxAttempts), MaxAttempts, 1, 10_000);
        check.RetryDelays(RetryDelay, MaxRetryDelay);
    }
}
