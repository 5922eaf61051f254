using DualLock.MySql;
using Microsoft.Extensions.Logging;

namespace DualLock;

/// <summary>
/// Adds the MySQL stages to a pipeline. A typical database part is a transaction with a row lock
/// inside it; with a Redis lock outside it is the dual composition:
/// <code>
/// builder.AddRedisLock(...)                        // outside: released after the commit
///        .AddMySqlTransaction(connectionString)    // opens the transaction, commits when the work returns
///        .AddMySqlRowLock("account", "id");        // SELECT ... FOR UPDATE in that transaction
/// </code>
/// </summary>
public static class MySqlPipelineBuilderExtensions
{
    private const string LoggerCategory = "DualLock.MySql";

    /// <summary>Adds a stage that runs the work in a MySQL transaction (see <see cref="MySqlTransactionFeature"/>).</summary>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="connectionString">The MySqlConnector connection string.</param>
    /// <param name="configure">Adjusts the other options; optional.</param>
    /// <returns>The builder.</returns>
    public static LockPipelineBuilder AddMySqlTransaction(this LockPipelineBuilder builder, string connectionString, Action<MySqlTransactionOptions>? configure = null)
    {
        var options = new MySqlTransactionOptions { ConnectionString = connectionString };
        configure?.Invoke(options);
        return builder.AddMySqlTransaction(options);
    }

    /// <summary>Adds a stage that runs the work in a MySQL transaction (see <see cref="MySqlTransactionFeature"/>).</summary>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="options">The options, copied and validated here (an <see cref="ArgumentException"/> lists every problem).</param>
    /// <returns>The builder.</returns>
    /// <remarks>
    /// It commits when the work returns and rolls back when the work throws or is cancelled. Stages
    /// added after it (a row lock) and the work use its transaction; stages added before it (a Redis
    /// lock, a named lock) are released only after the commit.
    /// <para>
    /// Opening the connection (including a wait for a free pooled connection), BEGIN and, with
    /// <see cref="MySqlTransactionOptions.EnforceFencing"/>, the wait on the key's fence row are bounded by
    /// what is left of the pipeline's wait, but never by less than 250 ms (a round trip needs that much
    /// even when an outer stage used the whole wait, or the caller tries once with a zero wait). A wait that runs out there is a timeout; a server that
    /// refuses or drops the connection is <see cref="LockUnavailableException"/>. Before committing, the
    /// transaction is rolled back with <see cref="LockLeaseLostException"/> when an outer stage's lock is
    /// already known lost or an outer named lock can no longer be confirmed.
    /// </para>
    /// </remarks>
    public static LockPipelineBuilder AddMySqlTransaction(this LockPipelineBuilder builder, MySqlTransactionOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        return builder.AddStage(options, static (context, o) => TransactionStage(context, o));
    }

    /// <summary>The transaction stage of validated options; the EF Core package wraps it instead of building its own.</summary>
    internal static LockStage TransactionStage(LockStageBuildContext context, MySqlTransactionOptions options)
        => new MySqlTransactionStage(options, context.TimeProvider, context.LoggerFactory.CreateLogger(LoggerCategory), context.Meter);

    /// <summary>Adds a row lock (<c>SELECT 1 FROM `table` WHERE `keyColumn` = @id FOR UPDATE</c>) inside the transaction stage added before it.</summary>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="table">The table with one row per resource.</param>
    /// <param name="keyColumn">The indexed column compared with <see cref="LockKey.Id"/>.</param>
    /// <param name="configure">Adjusts the other options; optional.</param>
    /// <returns>The builder.</returns>
    public static LockPipelineBuilder AddMySqlRowLock(this LockPipelineBuilder builder, string table, string keyColumn, Action<MySqlRowLockOptions>? configure = null)
    {
        var options = new MySqlRowLockOptions { Table = table, KeyColumn = keyColumn };
        configure?.Invoke(options);
        return builder.AddMySqlRowLock(options);
    }

    /// <summary>Adds a row lock inside the transaction stage added before it.</summary>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="options">The options, copied and validated here (an <see cref="ArgumentException"/> lists every problem).</param>
    /// <returns>The builder.</returns>
    /// <remarks>
    /// A lock-wait timeout (1205, or a NOWAIT miss) or a deadlock (1213) becomes a
    /// <see cref="LockTimeoutException"/> carrying the server error, and the transaction is rolled back;
    /// a missing row is a <see cref="MySqlRowNotFoundException"/>. The row stays locked until the
    /// transaction ends.
    /// </remarks>
    public static LockPipelineBuilder AddMySqlRowLock(this LockPipelineBuilder builder, MySqlRowLockOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        return builder.AddStage(options, static (context, o) => new MySqlRowLockStage(o, context.TimeProvider, context.LoggerFactory.CreateLogger(LoggerCategory)));
    }

    /// <summary>Adds a named lock (<c>GET_LOCK</c>) for resources that have no row.</summary>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="connectionString">The MySqlConnector connection string.</param>
    /// <param name="configure">Adjusts the other options; optional.</param>
    /// <returns>The builder.</returns>
    public static LockPipelineBuilder AddMySqlNamedLock(this LockPipelineBuilder builder, string connectionString, Action<MySqlNamedLockOptions>? configure = null)
    {
        var options = new MySqlNamedLockOptions { ConnectionString = connectionString };
        configure?.Invoke(options);
        return builder.AddMySqlNamedLock(options);
    }

    /// <summary>Adds a named lock (<c>GET_LOCK</c>) for resources that have no row.</summary>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="options">The options, copied and validated here (an <see cref="ArgumentException"/> lists every problem).</param>
    /// <returns>The builder.</returns>
    /// <remarks>
    /// The lock lives on a connection of its own. Add it <em>before</em> a transaction stage, never
    /// after: released after the commit, the next holder always reads the committed data. A pipeline
    /// with it inside a transaction stage does not build (<see cref="LockPipelineBuilder.Build"/> throws <see cref="InvalidOperationException"/>).
    /// <para>
    /// The server frees the lock when its session drops, without telling anyone. So before the transaction
    /// inside commits, the lock is confirmed on its own session (<c>IS_USED_LOCK(name) = CONNECTION_ID()</c>,
    /// one round trip); when it is gone the transaction is rolled back and <see cref="LockLeaseLostException"/>
    /// thrown. The handle's lease-lost token fires when the loss is learnt, and a <c>RELEASE_LOCK</c> that
    /// finds the lock gone is logged as a warning and counted (<c>duallock.mysql.named_lock.lost</c>).
    /// Residual window: a session that drops after that confirmation and before the commit reaches the
    /// server (one round trip) lets the next holder in while the commit is still arriving. Without a
    /// transaction stage inside, a loss is only learnt at release.
    /// </para>
    /// </remarks>
    public static LockPipelineBuilder AddMySqlNamedLock(this LockPipelineBuilder builder, MySqlNamedLockOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        return builder.AddStage(options, static (context, o) => new MySqlNamedLockStage(o, context.TimeProvider, context.LoggerFactory.CreateLogger(LoggerCategory), context.Meter));
    }
}
