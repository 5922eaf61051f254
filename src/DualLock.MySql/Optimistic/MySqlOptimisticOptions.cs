using System.Data;

namespace DualLock.MySql;

/// <summary>Options of the optimistic strategy <c>AddOptimisticStrategy</c> registers: a MySQL transaction per attempt, re-run after a conflict.</summary>
public sealed class MySqlOptimisticOptions
{
    /// <summary>Gets or sets the MySqlConnector connection string.</summary>
    /// <value>Required. Default: <see langword="null"/>.</value>
    public string? ConnectionString { get; set; }

    /// <summary>Gets or sets the isolation level of each attempt's transaction.</summary>
    /// <value>Default: <see cref="IsolationLevel.ReadCommitted"/>: each attempt reads the latest committed version.</value>
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

    /// <summary>Validates the options of strategy <paramref name="name"/>.</summary>
    internal void Validate(string name)
    {
        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            throw new ArgumentException($"MySqlOptimisticOptions.ConnectionString of '{name}' must be set.");
        }

        if (MaxAttempts is < 1 or > 10_000)
        {
            throw new ArgumentException($"MySqlOptimisticOptions.MaxAttempts of '{name}' must be between 1 and 10000 (was {MaxAttempts}).");
        }

        if (RetryDelay < TimeSpan.FromMilliseconds(1) || MaxRetryDelay < RetryDelay || MaxRetryDelay > TimeSpan.FromSeconds(10))
        {
            throw new ArgumentException($"'{name}': MySqlOptimisticOptions.RetryDelay must be at least 1 ms and at most MaxRetryDelay, which must be at most 10 s (were {RetryDelay} and {MaxRetryDelay}).");
        }
    }
}
