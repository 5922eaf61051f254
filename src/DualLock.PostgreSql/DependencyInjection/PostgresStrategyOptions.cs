using System.Data;

namespace DualLock.PostgreSql;

/// <summary>What the PostgreSQL presets (<c>AddPostgresPessimisticStrategy</c>, <c>AddPostgresAdvisoryLockStrategy</c>) need to build their stages.</summary>
public sealed class PostgresStrategyOptions
{
    /// <summary>Gets or sets the Npgsql connection string; pooling (Npgsql's default) is strongly recommended.</summary>
    /// <value>Required. Default: <see langword="null"/>.</value>
    public string? ConnectionString { get; set; }

    /// <summary>Gets or sets the table holding one row per resource, locked by the pessimistic preset.</summary>
    /// <value>A plain identifier; required by the pessimistic preset, not used by the advisory-lock preset. Default: <see langword="null"/>.</value>
    public string? Table { get; set; }

    /// <summary>Gets or sets the indexed column of <see cref="Table"/> compared with <see cref="LockKey.Id"/>.</summary>
    /// <value>A plain identifier; required by the pessimistic preset, not used by the advisory-lock preset. Default: <see langword="null"/>.</value>
    public string? KeyColumn { get; set; }

    /// <summary>Gets or sets the isolation level of the transaction the work runs in.</summary>
    /// <value>Default: <see cref="IsolationLevel.ReadCommitted"/> (see <see cref="PostgresTransactionOptions.IsolationLevel"/>).</value>
    public IsolationLevel IsolationLevel { get; set; } = IsolationLevel.ReadCommitted;
}
