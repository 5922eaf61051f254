namespace DualLock.PostgreSql;

/// <summary>Options of the PostgreSQL row lock stage: which row is the resource's (<see cref="Table"/> and <see cref="KeyColumn"/>).</summary>
public sealed class PostgresRowLockOptions : LockStageOptions
{
    /// <summary>Initializes a new instance of the <see cref="PostgresRowLockOptions"/> class; the stage name defaults to <c>postgres-row-lock</c>.</summary>
    public PostgresRowLockOptions()
        : base("postgres-row-lock")
    {
    }

    /// <summary>Gets or sets the table holding one row per resource.</summary>
    /// <value>A plain identifier, quoted in the statement (give it in the case the catalog shows, usually lower case). Required. Default: <see langword="null"/>.</value>
    public string? Table { get; set; }

    /// <summary>Gets or sets the indexed (ideally primary or unique) column compared with <see cref="LockKey.Id"/>; its type may be text, an integer or a uuid (the server converts the id).</summary>
    /// <value>A plain identifier, quoted in the statement. Required. Default: <see langword="null"/>.</value>
    public string? KeyColumn { get; set; }

    /// <summary>Gets or sets the table's schema, when it is not found through the connection's <c>search_path</c>.</summary>
    /// <value>A plain identifier, or <see langword="null"/> (the default) for the search path.</value>
    public string? Schema { get; set; }

    /// <inheritdoc />
    protected override void Validate(ICollection<string> problems)
    {
        base.Validate(problems);
        var check = OptionChecks.For(this, problems);
        check.Plain(nameof(Table), Table);
        check.Plain(nameof(KeyColumn), KeyColumn);
        if (Schema is not null)
        {
            check.Plain(nameof(Schema), Schema);
        }
    }
}
