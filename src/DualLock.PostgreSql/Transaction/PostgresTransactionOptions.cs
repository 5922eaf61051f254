using System.Data;

namespace DualLock.PostgreSql;

/// <summary>Options of the PostgreSQL transaction stage.</summary>
public sealed class PostgresTransactionOptions : LockStageOptions
{
    /// <summary>Initializes a new instance of the <see cref="PostgresTransactionOptions"/> class; the stage name defaults to <c>postgres-transaction</c>.</summary>
    public PostgresTransactionOptions()
        : base("postgres-transaction")
    {
    }

    /// <summary>Gets or sets the Npgsql connection string; pooling (Npgsql's default) is strongly recommended.</summary>
    /// <value>Required. Default: <see langword="null"/>.</value>
    public string? ConnectionString { get; set; }

    /// <summary>Gets or sets the isolation level of the transaction.</summary>
    /// <value>
    /// Default: <see cref="IsolationLevel.ReadCommitted"/>: every statement of the work reads the latest committed data,
    /// so after a row or distributed lock is acquired the work sees the previous holder's commit. Under
    /// <see cref="IsolationLevel.RepeatableRead"/> or <see cref="IsolationLevel.Serializable"/> a write that meets a
    /// concurrent one fails with 40001, which the optimistic strategy re-runs and the other strategies report.
    /// </value>
    public IsolationLevel IsolationLevel { get; set; } = IsolationLevel.ReadCommitted;

    /// <summary>
    /// Gets or sets a value indicating whether the fencing token of an outer stage (a Redis lock) is enforced in the
    /// database: as the transaction's first statement the token is recorded for the key in <see cref="FenceTable"/> (the
    /// highest one wins) and read back. When a higher token was already recorded, a newer holder has been through: the
    /// transaction is rolled back before the work runs (<see cref="LockLeaseLostException"/>). Otherwise the key's fence
    /// row stays locked until this transaction ends, so a newer holder waits for it (within what is left of its own
    /// wait, then <see cref="LockTimeoutException"/>) and a stale holder can no longer commit after a newer one read.
    /// </summary>
    /// <value>Default: <see langword="false"/>. Costs one round trip per transaction when the context carries a token.</value>
    public bool EnforceFencing { get; set; }

    /// <summary>Gets or sets the table that records the highest fencing token per key.</summary>
    /// <value>Default: <c>duallock_fence</c>. A plain identifier (quoted, so give it in the case the catalog shows); created on first use unless <see cref="CreateFenceTable"/> is off.</value>
    public string FenceTable { get; set; } = "duallock_fence";

    /// <summary>Gets or sets a value indicating whether the stage creates <see cref="FenceTable"/> (<c>CREATE TABLE IF NOT EXISTS</c>) once, before its first fenced transaction.</summary>
    /// <value>Default: <see langword="true"/>. Turn it off when the application's role may not run DDL, and create the table with <see cref="FenceTableDdl"/>.</value>
    public bool CreateFenceTable { get; set; } = true;

    /// <summary>Gets the statement that creates the fence table, for a migration script.</summary>
    /// <returns>The <c>CREATE TABLE IF NOT EXISTS</c> statement for <see cref="FenceTable"/>.</returns>
    /// <exception cref="ArgumentException"><see cref="FenceTable"/> is not a plain identifier.</exception>
    public string FenceTableDdl()
    {
        var problems = new List<string>();
        OptionChecks.For(this, problems).Plain(nameof(FenceTable), FenceTable);
        OptionChecks.ThrowIfAny(problems, $"Stage '{Name}'", parameterName: null);
        return PostgresFenceSql.CreateTable(PostgresIdentifier.Quote(FenceTable));
    }

    /// <inheritdoc />
    protected override void Validate(ICollection<string> problems)
    {
        base.Validate(problems);
        var check = OptionChecks.For(this, problems);
        check.ConnectionString(nameof(ConnectionString), ConnectionString);
        check.That(
            IsolationLevel is IsolationLevel.ReadCommitted or IsolationLevel.RepeatableRead or IsolationLevel.Serializable,
            nameof(IsolationLevel),
            IsolationLevel,
            "must be ReadCommitted, RepeatableRead or Serializable (PostgreSQL runs ReadUncommitted as ReadCommitted)");
        if (EnforceFencing)
        {
            check.Plain(nameof(FenceTable), FenceTable);
        }
    }
}
