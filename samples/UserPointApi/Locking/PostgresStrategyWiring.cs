using DualLock;
using DualLock.Redis;
using Microsoft.Extensions.DependencyInjection;

namespace UserPointApi.Locking;

/// <summary>
/// The PostgreSQL counterparts of <see cref="StrategyWiring"/>'s database strategies (<c>Database=postgres</c>), from
/// DualLock.PostgreSql's presets: the same compositions, with the Postgres transaction stage, its row lock
/// (<c>SELECT ... FOR UPDATE</c>) and, for <c>named</c>, the transaction-scoped advisory lock (<c>pg_advisory_xact_lock</c>).
/// </summary>
public static class PostgresStrategyWiring
{
    /// <summary>Gets the strategies this class registers; none, local and atomic lock nothing in the database and are wired by <see cref="StrategyWiring"/> for both.</summary>
    public static readonly IReadOnlyList<LockStrategy> Registers =
        [LockStrategy.Pessimistic, LockStrategy.Named, LockStrategy.Optimistic, LockStrategy.Distributed, LockStrategy.Dual, LockStrategy.Combined, LockStrategy.Redlock];

    public static void Register(DualLockBuilder dualLock, string operation, LockStrategy strategy, Func<string> postgres, LockingOptions options, Action<RedisLockOptions> redis, string table, string keyColumn)
    {
        _ = strategy switch
        {
            LockStrategy.Optimistic => dualLock.AddPostgresOptimisticStrategy(operation, o =>
            {
                o.ConnectionString = postgres();
                o.MaxAttempts = options.OptimisticMaxAttempts;
            }),
            LockStrategy.Pessimistic => dualLock.AddPostgresPessimisticStrategy(operation, o =>
            {
                o.ConnectionString = postgres();
                o.Table = table;
                o.KeyColumn = keyColumn;
            }),

            // Postgres has no session lock on its own connection like GET_LOCK here: the advisory lock is taken inside
            // the transaction and released by its commit or rollback (safe behind PgBouncer in transaction mode).
            LockStrategy.Named => dualLock.AddPostgresAdvisoryLockStrategy(operation, o => o.ConnectionString = postgres()),
            LockStrategy.Distributed => dualLock.AddDistributedStrategy(operation, (b, _) => Fenced(b, postgres()), redis),

            // As on MySQL: no fence, the row lock held until the commit serialises a holder whose lease expired.
            LockStrategy.Dual or LockStrategy.Combined => dualLock.AddDualStrategy(operation, (b, _) => b.AddPostgresTransaction(postgres()).AddPostgresRowLock(table, keyColumn), redis),
            LockStrategy.Redlock => dualLock.AddPipeline(operation, (b, services) => Fenced(
                b.AddRedlock(
                    services.GetRequiredService<RedlockNodes>().Connections,
                    new RedlockOptions { KeyPrefix = "userpointapi", Lease = options.Lease, OperationTimeout = options.RedisOperationTimeout }),
                postgres())),
            _ => throw new InvalidOperationException($"Strategy {strategy} has no PostgreSQL registration."),
        };
    }

    private static LockPipelineBuilder Fenced(LockPipelineBuilder builder, string connectionString)
        => builder.AddPostgresTransaction(connectionString, o => o.EnforceFencing = true);
}
