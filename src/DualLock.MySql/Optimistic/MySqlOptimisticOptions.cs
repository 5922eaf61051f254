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

    /// <summary>A shallow copy; options hold only values.</summary>
    internal MySqlOptimisticOptions Copy() => (MySqlOptimisticOptions)MemberwiseClone();

    /// <summary>Adds every problem with these options to <paramref name="problems"/>.</summary>
    internal void Validate(ICollection<string> problems)
    {
        var check = OptionChecks.For(this, problems);
        check.NotEmpty(nameof(Name), Name);
        check.NotEmpty(nameof(ConnectionString), ConnectionString);
        check.Between(nameof(MaxAttempts), MaxAttempts, 1, 10_000);
        MySqlRowLockOptions.RetryDelays(check, RetryDelay, MaxRetryDelay);
    }
}
