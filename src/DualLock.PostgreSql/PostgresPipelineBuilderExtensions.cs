using DualLock.PostgreSql;
using Microsoft.Extensions.Logging;

namespace DualLock;

/// <summary>
/// Adds the PostgreSQL stages to a pipeline. A typical database part is a transaction with a row lock inside it; with
/// a Redis lock outside it is the dual composition:
/// <code>
/// builder.AddRedisLock(...)                           // outside: released after the commit
///        .AddPostgresTransaction(connectionString)    // opens the transaction, commits when the work returns
///        .AddPostgresRowLock("account", "id");        // SELECT ... FOR UPDATE in that transaction
/// </code>
/// </summary>
public static class PostgresPipelineBuilderExtensions
{
    private const string LoggerCategory = "DualLock.PostgreSql";

    /// <summary>Adds a stage that runs the work in a PostgreSQL transaction (see <see cref="PostgresTransactionFeature"/>).</summary>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="connectionString">The Npgsql connection string.</param>
    /// <param name="configure">Adjusts the other options; optional.</param>
    /// <returns>The builder.</returns>
    public static LockPipelineBuilder AddPostgresTransaction(this LockPipelineBuilder builder, string connectionString, Action<PostgresTransactionOptions>? configure = null)
    {
        var options = new PostgresTransactionOptions { ConnectionString = connectionString };
        configure?.Invoke(options);
        return builder.AddPostgresTransaction(options);
    }

    /// <summary>Adds a stage that runs the work in a PostgreSQL transaction (see <see cref="PostgresTransactionFeature"/>).</summary>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="options">The options, copied and validated here (an <see cref="ArgumentException"/> lists every problem).</param>
    /// <returns>The builder.</returns>
    /// <remarks>
    /// It commits when the work returns and rolls back when the work throws or is cancelled. Stages added after it (a row
    /// or advisory lock) and the work use its transaction; stages added before it (a Redis lock) are released only after
    /// the commit.
    /// <para>
    /// Opening the connection (including a wait for a free pooled connection) and, with
    /// <see cref="PostgresTransactionOptions.EnforceFencing"/>, the wait on the key's fence row are bounded by what is left
    /// of the pipeline's wait, but never by less than 250 ms. A wait that runs out there is a timeout; a server that
    /// refuses or drops the connection is <see cref="LockUnavailableException"/>; a COMMIT whose answer is lost is
    /// <see cref="LockCommitOutcomeUnknownException"/>; a transaction a failed statement had aborted is rolled back with
    /// <see cref="PostgresTransactionAbortedException"/>.
    /// </para>
    /// </remarks>
    public static LockPipelineBuilder AddPostgresTransaction(this LockPipelineBuilder builder, PostgresTransactionOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        return builder.AddStage(options, static (context, o) => new PostgresTransactionStage(o, context.TimeProvider, context.LoggerFactory.CreateLogger(LoggerCategory), context.Meter));
    }

    /// <summary>Adds a row lock (<c>SELECT 1 FROM "table" WHERE "keyColumn" = @id FOR UPDATE</c>) inside the transaction stage added before it.</summary>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="table">The table with one row per resource.</param>
    /// <param name="keyColumn">The indexed column compared with <see cref="LockKey.Id"/>.</param>
    /// <param name="configure">Adjusts the other options; optional.</param>
    /// <returns>The builder.</returns>
    public static LockPipelineBuilder AddPostgresRowLock(this LockPipelineBuilder builder, string table, string keyColumn, Action<PostgresRowLockOptions>? configure = null)
    {
        var options = new PostgresRowLockOptions { Table = table, KeyColumn = keyColumn };
        configure?.Invoke(options);
        return builder.AddPostgresRowLock(options);
    }

    /// <summary>Adds a row lock inside the transaction stage added before it.</summary>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="options">The options, copied and validated here (an <see cref="ArgumentException"/> lists every problem).</param>
    /// <returns>The builder.</returns>
    /// <remarks>
    /// The wait is bounded in the server by <c>lock_timeout</c> (what is left of the pipeline's wait, in milliseconds, for
    /// this statement only); a wait of zero tries once with <c>NOWAIT</c>. A wait that runs out (55P03), a deadlock (40P01)
    /// or a serialization failure (40001) becomes a <see cref="LockTimeoutException"/> carrying the server error, and the
    /// transaction is rolled back; a missing row is a <see cref="PostgresRowNotFoundException"/>. The row stays locked
    /// until the transaction ends.
    /// </remarks>
    public static LockPipelineBuilder AddPostgresRowLock(this LockPipelineBuilder builder, PostgresRowLockOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        return builder.AddStage(options, static (context, o) => new PostgresRowLockStage(o, context.TimeProvider, context.LoggerFactory.CreateLogger(LoggerCategory)));
    }

    /// <summary>Adds a transaction-scoped advisory lock (<c>pg_advisory_xact_lock</c>) inside the transaction stage added before it, for resources that have no row.</summary>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="configure">Adjusts the options; optional.</param>
    /// <returns>The builder.</returns>
    /// <remarks>
    /// Each key is a 64-bit lock id (SHA-256 of the namespace and the key), taken in ascending order for a set. The wait
    /// is bounded by <c>lock_timeout</c> like the row lock's; a wait of zero tries once (<c>pg_try_advisory_xact_lock</c>).
    /// The server releases the lock with the transaction, so it is safe behind PgBouncer in transaction mode.
    /// </remarks>
    public static LockPipelineBuilder AddPostgresAdvisoryLock(this LockPipelineBuilder builder, Action<PostgresAdvisoryLockOptions>? configure = null)
    {
        var options = new PostgresAdvisoryLockOptions();
        configure?.Invoke(options);
        return builder.AddPostgresAdvisoryLock(options);
    }

    /// <summary>Adds a transaction-scoped advisory lock inside the transaction stage added before it.</summary>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="options">The options, copied and validated here (an <see cref="ArgumentException"/> lists every problem).</param>
    /// <returns>The builder.</returns>
    public static LockPipelineBuilder AddPostgresAdvisoryLock(this LockPipelineBuilder builder, PostgresAdvisoryLockOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        return builder.AddStage(options, static (context, o) => new PostgresAdvisoryLockStage(o, context.TimeProvider, context.LoggerFactory.CreateLogger(LoggerCategory)));
    }
}
