namespace DualLock.MySql;

/// <summary>
/// Options of the MySQL row lock stage: which row is the resource's (<see cref="Table"/> and
/// <see cref="KeyColumn"/>, or your own <see cref="Sql"/>) and how the wait is bounded.
/// </summary>
public sealed class MySqlRowLockOptions : LockStageOptions
{
    /// <summary>Initializes a new instance of the <see cref="MySqlRowLockOptions"/> class; the stage name defaults to <c>mysql-row-lock</c>.</summary>
    public MySqlRowLockOptions()
        : base("mysql-row-lock")
    {
    }

    /// <summary>Gets or sets the table holding one row per resource.</summary>
    /// <value>A plain identifier, required unless <see cref="Sql"/> is set. Default: <see langword="null"/>.</value>
    public string? Table { get; set; }

    /// <summary>Gets or sets the indexed (ideally primary or unique) column compared with <see cref="LockKey.Id"/>.</summary>
    /// <value>A plain identifier, required unless <see cref="Sql"/> is set. Default: <see langword="null"/>.</value>
    public string? KeyColumn { get; set; }

    /// <summary>
    /// Gets or sets your own locking statement instead of <see cref="Table"/>/<see cref="KeyColumn"/>:
    /// a <c>SELECT ... FOR UPDATE</c> that returns at least one row when the resource exists. It may use
    /// the parameters <c>@id</c>, <c>@resource</c>, <c>@scope</c> and <c>@key</c> (the key's text).
    /// With <see cref="MySqlRowLockWaitMode.NoWaitRetry"/> it must end with <c>NOWAIT</c>.
    /// </summary>
    /// <value>Default: <see langword="null"/>.</value>
    public string? Sql { get; set; }

    /// <summary>Gets or sets how the wait for a held row is bounded.</summary>
    /// <value>Default: <see cref="MySqlRowLockWaitMode.LockWaitTimeout"/>.</value>
    public MySqlRowLockWaitMode WaitMode { get; set; } = MySqlRowLockWaitMode.LockWaitTimeout;

    /// <summary>Gets or sets the first backoff of <see cref="MySqlRowLockWaitMode.NoWaitRetry"/>; later ones double, with full jitter.</summary>
    /// <value>Default: 5 ms. Between 1 ms and <see cref="MaxRetryDelay"/>.</value>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Gets or sets the longest backoff of <see cref="MySqlRowLockWaitMode.NoWaitRetry"/>.</summary>
    /// <value>Default: 100 ms.</value>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Validates and returns a copy the stage keeps, so later changes by the caller do not reach it.</summary>
    internal MySqlRowLockOptions ValidatedCopy()
    {
        Validate();
        return (MySqlRowLockOptions)MemberwiseClone();
    }

    /// <inheritdoc />
    protected override string? FindProblem()
    {
        if (string.IsNullOrWhiteSpace(Name))
        {
            return "MySqlRowLockOptions.Name must not be empty.";
        }

        if (Sql is not null)
        {
            if (Table is not null || KeyColumn is not null)
            {
                return $"Stage '{Name}': set either MySqlRowLockOptions.Sql or Table and KeyColumn, not both.";
            }

            if (Sql.Contains("FOR UPDATE", StringComparison.OrdinalIgnoreCase) is false
                && Sql.Contains("FOR SHARE", StringComparison.OrdinalIgnoreCase) is false
                && Sql.Contains("LOCK IN SHARE MODE", StringComparison.OrdinalIgnoreCase) is false)
            {
                return $"Stage '{Name}': MySqlRowLockOptions.Sql must be a locking read (SELECT ... FOR UPDATE); without it the stage would lock nothing.";
            }

            if (WaitMode == MySqlRowLockWaitMode.NoWaitRetry && !Sql.TrimEnd().TrimEnd(';').EndsWith("NOWAIT", StringComparison.OrdinalIgnoreCase))
            {
                return $"Stage '{Name}': with WaitMode NoWaitRetry, MySqlRowLockOptions.Sql must end with NOWAIT.";
            }
        }
        else
        {
            var problem = SqlIdentifier.Problem(Table, $"Stage '{Name}': MySqlRowLockOptions.Table")
                ?? SqlIdentifier.Problem(KeyColumn, $"Stage '{Name}': MySqlRowLockOptions.KeyColumn");
            if (problem is not null)
            {
                return problem;
            }
        }

        if (!Enum.IsDefined(WaitMode))
        {
            return $"Stage '{Name}': MySqlRowLockOptions.WaitMode {WaitMode} is not defined.";
        }

        if (RetryDelay < TimeSpan.FromMilliseconds(1) || MaxRetryDelay < RetryDelay || MaxRetryDelay > TimeSpan.FromSeconds(10))
        {
            return $"Stage '{Name}': MySqlRowLockOptions.RetryDelay must be at least 1 ms and at most MaxRetryDelay, which must be at most 10 s (were {RetryDelay} and {MaxRetryDelay}).";
        }

        return null;
    }

    internal void Validate()
    {
        if (FindProblem() is { } problem)
        {
            throw new ArgumentException(problem);
        }
    }
}
