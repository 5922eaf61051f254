using System.Data.Common;
using DualLock;
using DualLock.MySql;
using DualLock.Redis;
using UserPointApi.Data;
using UserPointApi.Points;

namespace UserPointApi.Locking;

/// <summary>
/// Registers the lock strategy of each operation with DualLock's presets, and gives the work the
/// transaction a stage opened and the write mode the strategy calls for. With <see cref="PostgresStrategyWiring"/>, the one
/// place that knows the database and Redis packages; the domain code calls every strategy the same way.
/// </summary>
public static class StrategyWiring
{
    private const string PointTable = "user_points";
    private const string LockedColumn = "user_id";
    private const string SharedLocalPipeline = "local";

    /// <summary>
    /// Registers the strategy of one operation under its name: one preset per strategy, so this is the one
    /// place that decides how each endpoint is locked.
    /// </summary>
    public static void Register(DualLockBuilder dualLock, IConfiguration configuration, string operation, LockStrategy strategy, LockingOptions options, PointOptions points)
    {
        // Read when the strategy is first resolved (at start), with the settings the sample's reads rely on.
        string MySql() => new Database(configuration).ConnectionString;
        void Redis(RedisLockOptions o)
        {
            o.KeyPrefix = "userpointapi";
            o.Lease = options.Lease;
            o.OperationTimeout = options.RedisOperationTimeout;
        }

        if (points.UsesEf && PointService.WritesThroughEf(operation))
        {
            EfStrategyWiring.Register(dualLock, operation, strategy, Redis);
            return;
        }

        if (Database.KindOf(configuration) == DatabaseKind.Postgres && PostgresStrategyWiring.Registers.Contains(strategy))
        {
            PostgresStrategyWiring.Register(dualLock, operation, strategy, () => new Database(configuration).ConnectionString, options, Redis, PointTable, LockedColumn);
            return;
        }

        _ = strategy switch
        {
            // The negative control: a no-lock stage only puts it in the same metrics.
            LockStrategy.None => dualLock.AddPipeline(operation, b => b.AddNoLock()),

            // No lock either: a stage that locks nothing tells the work to write with one conditional relative update.
            LockStrategy.Atomic => dualLock.AddPipeline(operation, b => b.AddStage(new WriteModeStage("atomic", WriteMode.Atomic))),

            // No lock: each attempt is a transaction of its own; a lost compare-and-set is rolled back and re-run.
            LockStrategy.Optimistic => dualLock.AddOptimisticStrategy(operation, o =>
            {
                o.ConnectionString = MySql();
                o.MaxAttempts = options.OptimisticMaxAttempts;
            }),
            LockStrategy.Local => SharedInProcess(dualLock, operation, options),
            LockStrategy.Pessimistic => dualLock.AddPessimisticStrategy(operation, o =>
            {
                o.ConnectionString = MySql();
                o.Table = PointTable;
                o.KeyColumn = LockedColumn;
            }),

            // GET_LOCK on its own connection, released after the transaction inside it has committed.
            LockStrategy.Named => dualLock.AddNamedLockStrategy(operation, o => o.ConnectionString = MySql()),

            // Redis outside; the transaction stage inside takes the fence row at BEGIN, so a holder whose
            // lease expired while paused cannot commit over its successor (nor before it).
            LockStrategy.Distributed => dualLock.AddDistributedStrategy(operation, (b, _) => FencedTransaction(b, MySql()), Redis),

            // Redis outside, the transaction and the row lock inside: when Redis is down the row lock alone still
            // serialises the writes (counted as duallock.fallback). No fence: the row lock is held until the commit,
            // so a holder whose Redis lease expired while it was paused still blocks its successor at the row, and
            // a fence would cost a round trip (and a second locked row) under the Redis lock for no protection the
            // row lock does not already give (dual was 0.52-0.58x of pessimistic over HTTP with it, 2026-12-02).
            // Combined runs its batches in the same composition (the combiner is a layer over the strategy);
            // a transfer configured combined is not combined: it runs as plain dual (CombinedPointWrites handles charge and use only).
            LockStrategy.Dual or LockStrategy.Combined => dualLock.AddDualStrategy(operation, (b, _) => b.AddMySqlTransaction(MySql()).AddMySqlRowLock(PointTable, LockedColumn), Redis),

            // A majority of independent masters instead of one Redis, fenced like distributed: a custom composition.
            LockStrategy.Redlock => dualLock.AddPipeline(operation, (b, services) => FencedTransaction(
                b.AddRedlock(
                    services.GetRequiredService<RedlockNodes>().Connections,
                    new RedlockOptions { KeyPrefix = "userpointapi", Lease = options.Lease, OperationTimeout = options.RedisOperationTimeout }),
                MySql())),
            _ => throw new InvalidOperationException($"Strategy {strategy} has no registration."),
        };
    }

    /// <summary>
    /// Registers <paramref name="operation"/> as the one in-process pipeline every <c>local</c> operation shares. Each
    /// pipeline builds its own in-process stage with its own lock table, so separate pipelines would let a charge
    /// and a transfer of the same user run at once even in one process. Its metrics are labelled <c>local</c>.
    /// </summary>
    private static DualLockBuilder SharedInProcess(DualLockBuilder dualLock, string operation, LockingOptions options)
    {
        // Registering the shared name again keeps the first registration.
        dualLock.AddInProcessStrategy(SharedLocalPipeline);
        dualLock.Services.Configure<LockPipelineOptions>(SharedLocalPipeline, o => o.WaitTimeout = TimeSpan.FromMilliseconds(options.WaitTimeoutMs));
        dualLock.Services.AddKeyedSingleton(operation, static (sp, _) => sp.GetRequiredKeyedService<LockPipeline>(SharedLocalPipeline));
        dualLock.Services.AddKeyedSingleton<ILockStrategy>(operation, static (sp, _) => sp.GetRequiredKeyedService<LockPipeline>(SharedLocalPipeline));
        return dualLock;
    }

    /// <summary>
    /// Runs the work in the transaction a stage of the pipeline opened (the stage commits it after the work, inside
    /// the outer locks), or, when no stage opens one, in a transaction of its own committed right after the work.
    /// </summary>
    public static async ValueTask<T> InTransactionAsync<T>(LockContext context, Database database, Func<DbConnection, DbTransaction, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        if (StageTransaction(context) is { } stage)
        {
            return await work(stage.Connection, stage.Transaction, cancellationToken);
        }

        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, cancellationToken);
        var result = await work(connection, transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    /// <summary>Returns the transaction a stage of the pipeline opened, or <see langword="null"/>.</summary>
    public static OpenTransaction? StageTransaction(LockContext context)
        => context.GetFeature<MySqlTransactionFeature>() is { } feature
            ? new OpenTransaction(feature.Connection, feature.Transaction)
            : context.GetFeature<DualLock.PostgreSql.PostgresTransactionFeature>() is { } postgres ? new OpenTransaction(postgres.Connection, postgres.Transaction) : null;

    /// <summary>
    /// How the work must write under the strategy that runs it, read from the context rather than the configured
    /// strategy: a compare-and-set when the strategy re-runs the work after a conflict (optimistic), the atomic update
    /// when a stage asks for it, else read-modify-write (the lock makes it safe; none does not, on purpose).
    /// </summary>
    public static WriteMode WriteModeOf(LockContext context)
        => context.GetFeature<WriteModeFeature>()?.Mode ?? (context.RerunsOnConflict ? WriteMode.CompareAndSet : WriteMode.ReadModifyWrite);

    private static LockPipelineBuilder FencedTransaction(LockPipelineBuilder builder, string connectionString)
        => builder.AddMySqlTransaction(connectionString, o => o.EnforceFencing = true);
}
