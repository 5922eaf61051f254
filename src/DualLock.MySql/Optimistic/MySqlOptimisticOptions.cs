using System.Data;

namespace DualLock.MySql;

/// <summary>Options of <see cref="MySqlOptimisticExecutor"/>.</summary>
public sealed class MySqlOptimisticOptions
{
    /// <summary>Gets or sets the name used in exceptions, metrics and logs.</summary>
    /// <value>Default: <c>mysql-optimistic</c>.</value>
    public string Name { get; set; } = "mysql-optimistic";

    /// <summary>Gets or sets the MySqlConnector connection string.</summary>
    /// <value>Required. Default: <see langword="null"/>.</value>
    public string? ConnectionString { get; set; }

    /// <summary>Gets or sets the isolation level of each attempt's transaction.</summary>
    /// <value>Default: <see cref="IsolationLevel.ReadCommitted"/>: each attempt reads the latest committed version.</value>
    public IsolationLevel IsolationLevel { get; set; } = IsolationLevel.ReadCommitted;

    /// <summary>Gets or sets how many times the work may run before the executor gives up.</summary>
    /// <value>Default: 10. Between 1 and 10,000.</value>
    public int MaxAttempts { get; set; } = 10;

    /// <summary>Gets or sets the first backoff after a conflict; later ones double, with full jitter.</summary>
    /// <value>Default: 5 ms.</value>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Gets or sets the longest backoff after a conflict.</summary>
    /// <value>Default: 200 ms.</value>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Validates and returns a copy the stage keeps, so later changes by the caller do not reach it.</summary>
    internal MySqlOptimisticOptions ValidatedCopy()
    {
        Validate();
        return (MySqlOptimisticOptions)MemberwiseClone();
    }

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(Name))
        {
            throw new ArgumentException("MySqlOptimisticOptions.Name must not be empty.");
        }

        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            throw new ArgumentException($"MySqlOptimisticOptions.ConnectionString of '{Name}' must be set.");
        }

        if (MaxAttempts is < 1 or > 10_000)
        {
            throw new ArgumentException($"MySqlOptimisticOptions.MaxAttempts of '{Name}' must be between 1 and 10000 (was {MaxAttempts}).");
        }

        if (RetryDelay < TimeSpan.FromMilliseconds(1) || MaxRetryDelay < RetryDelay || MaxRetryDelay > TimeSpan.FromSeconds(10))
        {
            throw new ArgumentException($"'{Name}': MySqlOptimisticOptions.RetryDelay must be at least 1 ms and at most MaxRetryDelay, which must be at most 10 s (were {RetryDelay} and {MaxRetryDelay}).");
        }
    }
}
