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

    /// <inheritdoc />
    protected override void Validate(ICollection<string> problems)
    {
        base.Validate(problems);
        var check = OptionChecks.For(this, problems);
        if (Sql is null)
        {
            check.Plain(nameof(Table), Table);
            check.Plain(nameof(KeyColumn), KeyColumn);
        }
        else
        {
            check.That(Table is null && KeyColumn is null, nameof(Sql), Sql, "must not be set together with Table and KeyColumn: set one or the other");
            check.That(
                Sql.Contains("FOR UPDATE", StringComparison.OrdinalIgnoreCase)
                    || Sql.Contains("FOR SHARE", StringComparison.OrdinalIgnoreCase)
                    || Sql.Contains("LOCK IN SHARE MODE", StringComparison.OrdinalIgnoreCase),
                nameof(Sql),
                Sql,
                "must be a locking read (SELECT ... FOR UPDATE); without it the stage would lock nothing");
            if (WaitMode == MySqlRowLockWaitMode.NoWaitRetry)
            {
                check.That(Sql.TrimEnd().TrimEnd(';').EndsWith("NOWAIT", StringComparison.OrdinalIgnoreCase), nameof(Sql), Sql, "must end with NOWAIT when WaitMode is NoWaitRetry");
            }
        }

        check.Defined(nameof(WaitMode), WaitMode);
        RetryDelays(check, RetryDelay, MaxRetryDelay);
    }

    /// <summary>The rule of a first and a longest backoff, shared by the MySQL options that retry.</summary>
    internal static void RetryDelays(OptionChecks check, TimeSpan retryDelay, TimeSpan maxRetryDelay) => check.RetryDelays(retryDelay, maxRetryDelay);
}
