namespace DualLock.PostgreSql;

/// <summary>Options of the PostgreSQL advisory lock stage (<c>pg_advisory_xact_lock</c>), for resources that have no row.</summary>
public sealed class PostgresAdvisoryLockOptions : LockStageOptions
{
    /// <summary>Initializes a new instance of the <see cref="PostgresAdvisoryLockOptions"/> class; the stage name defaults to <c>postgres-advisory-lock</c>.</summary>
    public PostgresAdvisoryLockOptions()
        : base("postgres-advisory-lock")
    {
    }

    /// <summary>
    /// Gets or sets the namespace mixed into each key's 64-bit lock id, so two applications sharing a database do not
    /// lock each other's keys of the same name.
    /// </summary>
    /// <value>Default: <c>duallock</c>. Not empty, at most 64 characters.</value>
    public string Namespace { get; set; } = "duallock";

    /// <inheritdoc />
    protected override void Validate(ICollection<string> problems)
    {
        base.Validate(problems);
        var check = OptionChecks.For(this, problems);
        if (check.NotEmpty(nameof(Namespace), Namespace))
        {
            check.That(Namespace.Length <= 64, nameof(Namespace), Namespace, "must be at most 64 characters");
        }
    }
}
