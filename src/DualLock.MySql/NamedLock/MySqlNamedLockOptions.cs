namespace DualLock.MySql;

/// <summary>Options of the MySQL named lock stage (<c>GET_LOCK</c>/<c>RELEASE_LOCK</c>), for resources that have no row.</summary>
public sealed class MySqlNamedLockOptions : LockStageOptions
{
    /// <summary>The longest lock name the server accepts (MySQL 5.7+ and MariaDB).</summary>
    public const int MaxLockNameLength = 64;

    private const int MaxPrefixLength = 32;

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

    /// <inheritdoc />
    protected override void Validate(ICollection<string> problems)
    {
        base.Validate(problems);
        var check = OptionChecks.For(this, problems);
        check.ConnectionString(nameof(ConnectionString), ConnectionString);
        check.That(Prefix is { Length: <= MaxPrefixLength }, nameof(Prefix), Prefix, $"must be set and at most {MaxPrefixLength} characters long");
        MySqlRowLockOptions.RetryDelays(check, RetryDelay, MaxRetryDelay);
    }
}
