namespace DualLock.MySql;

/// <summary>Options of the MySQL named lock stage (<c>GET_LOCK</c>/<c>RELEASE_LOCK</c>), for resources that have no row.</summary>
public sealed class MySqlNamedLockOptions : LockStageOptions
{
    /// <summary>The longest lock name the server accepts (MySQL 5.7+ and MariaDB).</summary>
    public const int MaxLockNameLength = 64;

    /// <summary>Initializes a new instance of the <see cref="MySqlNamedLockOptions"/> class; the stage name defaults to <c>mysql-named-lock</c>.</summary>
    public MySqlNamedLockOptions()
        : base("mysql-named-lock")
    {
    }

    /// <summary>Gets or sets the connection string; the stage holds one connection of its own per execution.</summary>
    /// <value>Required. Default: <see langword="null"/>.</value>
    public string? ConnectionString { get; set; }

    /// <summary>Gets or sets the prefix of the lock names, which are <c>prefix + key</c>.</summary>
    /// <value>
    /// Default: <c>duallock:</c>. Names longer than <see cref="MaxLockNameLength"/> characters are
    /// shortened deterministically: their start, then a SHA-256 of the whole name.
    /// </value>
    public string Prefix { get; set; } = "duallock:";

    /// <summary>Gets or sets the first pause between polls once the server-side wait (whole seconds) has run out; later ones double, with full jitter.</summary>
    /// <value>Default: 5 ms.</value>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Gets or sets the longest pause between polls.</summary>
    /// <value>Default: 100 ms.</value>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Validates and returns a copy the stage keeps, so later changes by the caller do not reach it.</summary>
    internal MySqlNamedLockOptions ValidatedCopy()
    {
        Validate();
        return (MySqlNamedLockOptions)MemberwiseClone();
    }

    /// <inheritdoc />
    protected override string? FindProblem()
    {
        if (string.IsNullOrWhiteSpace(Name))
        {
            return "MySqlNamedLockOptions.Name must not be empty.";
        }

        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            return $"MySqlNamedLockOptions.ConnectionString of stage '{Name}' must be set.";
        }

        if (Prefix is null || Prefix.Length > 32)
        {
            return $"MySqlNamedLockOptions.Prefix of stage '{Name}' must not be null or longer than 32 characters.";
        }

        if (RetryDelay < TimeSpan.FromMilliseconds(1) || MaxRetryDelay < RetryDelay || MaxRetryDelay > TimeSpan.FromSeconds(10))
        {
            return $"Stage '{Name}': MySqlNamedLockOptions.RetryDelay must be at least 1 ms and at most MaxRetryDelay, which must be at most 10 s (were {RetryDelay} and {MaxRetryDelay}).";
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
