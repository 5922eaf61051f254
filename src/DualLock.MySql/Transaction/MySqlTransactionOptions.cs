using System.Data;

namespace DualLock.MySql;

/// <summary>Options of the MySQL transaction stage.</summary>
public sealed class MySqlTransactionOptions : LockStageOptions
{
    /// <summary>Initializes a new instance of the <see cref="MySqlTransactionOptions"/> class; the stage name defaults to <c>mysql-transaction</c>.</summary>
    public MySqlTransactionOptions()
        : base("mysql-transaction")
    {
    }

    /// <summary>Gets or sets the MySqlConnector connection string; pooling is strongly recommended.</summary>
    /// <value>Required. Default: <see langword="null"/>.</value>
    public string? ConnectionString { get; set; }

    /// <summary>Gets or sets the isolation level of the transaction.</summary>
    /// <value>
    /// Default: <see cref="IsolationLevel.ReadCommitted"/>. Under it every statement of the work reads
    /// the latest committed data, so after a row or distributed lock is acquired the work always sees
    /// the previous holder's commit, and InnoDB takes no gap locks (fewer waits and deadlocks than
    /// REPEATABLE READ). Needs row-based or mixed binary logging when binary logging is on.
    /// </value>
    public IsolationLevel IsolationLevel { get; set; } = IsolationLevel.ReadCommitted;

    /// <summary>
    /// Gets or sets a value indicating whether the fencing token of an outer stage (a Redis lock) is
    /// enforced in the database: right after BEGIN, in the same transaction, the token is recorded for
    /// the key in <see cref="FenceTable"/> (the highest one wins) and read back. When a higher token was
    /// already recorded, a newer holder has been through: the transaction is rolled back before the work
    /// runs (<see cref="LockLeaseLostException"/>). Otherwise the key's fence row stays locked until this
    /// transaction ends, so a newer holder waits for it (within what is left of its own wait, then
    /// <see cref="LockTimeoutException"/>) and a stale holder can no longer commit after a newer one read.
    /// </summary>
    /// <value>
    /// Default: <see langword="false"/>. Costs one round trip per transaction when the context carries a
    /// token; an execution without a token (for example after a fallback) is not fenced.
    /// </value>
    public bool EnforceFencing { get; set; }

    /// <summary>Gets or sets the table that records the highest committed fencing token per key.</summary>
    /// <value>Default: <c>duallock_fence</c>. A plain identifier; created on first use unless <see cref="CreateFenceTable"/> is off.</value>
    public string FenceTable { get; set; } = "duallock_fence";

    /// <summary>Gets or sets a value indicating whether the stage creates <see cref="FenceTable"/> (<c>CREATE TABLE IF NOT EXISTS</c>) once, before its first fenced transaction.</summary>
    /// <value>Default: <see langword="true"/>. Turn it off when the application's user may not run DDL and create the table with <see cref="FenceTableDdl"/>.</value>
    public bool CreateFenceTable { get; set; } = true;

    /// <summary>Gets the statement that creates the fence table, for a migration script.</summary>
    /// <returns>The <c>CREATE TABLE IF NOT EXISTS</c> statement for <see cref="FenceTable"/>.</returns>
    /// <exception cref="ArgumentException"><see cref="FenceTable"/> is not a plain identifier.</exception>
    public string FenceTableDdl()
    {
        var problems = new List<string>();
        OptionChecks.For(this, problems).Plain(nameof(FenceTable), FenceTable);
        OptionChecks.ThrowIfAny(problems, $"Stage '{Name}'", parameterName: null);
        return FenceSql.CreateTable(SqlIdentifier.Quote(FenceTable));
    }

    /// <inheritdoc />
    protected override void Validate(ICollection<string> problems)
    {
        base.Validate(problems);
        var check = OptionChecks.For(this, problems);
        check.ConnectionString(nameof(ConnectionString), ConnectionString);
        check.That(
            IsolationLevel is IsolationLevel.ReadUncommitted or IsolationLevel.ReadCommitted or IsolationLevel.RepeatableRead or IsolationLevel.Serializable,
            nameof(IsolationLevel),
            IsolationLevel,
            "must be ReadUncommitted, ReadCommitted, RepeatableRead or Serializable");
        if (EnforceFencing)
        {
            check.Plain(nameof(FenceTable), FenceTable);
        }
    }
}
