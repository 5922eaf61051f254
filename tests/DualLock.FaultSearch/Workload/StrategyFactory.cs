using DualLock.MySql;
using DualLock.PostgreSql;
using DualLock.Redis;
using StackExchange.Redis;

namespace DualLock.FaultSearch.Workload;

/// <summary>Where a worker's locks live: Redis and the Redlock nodes through the proxies, MariaDB and PostgreSQL directly.</summary>
internal sealed record WorkerTargets(
    IConnectionMultiplexer Redis, IReadOnlyList<IConnectionMultiplexer> Redlock, string MySql, string Postgres, Microsoft.Extensions.Logging.ILoggerFactory Log);

/// <summary>Builds each strategy with the public API, composed as samples/UserPointApi and the contract suite compose them.</summary>
internal static class StrategyFactory
{
    public const string Prefix = "fs";
    public const string RowTable = "fs_rows";
    public const string FenceTable = "fs_fence";

    /// <summary>The wait of every call; the checker's bound is this plus its slack.</summary>
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The Redis lease: short, so a holder that lost its release (a reset, a lost reply) frees the key
    /// soon and the no-wedge probe can run 3 s after the faults stop. Renewal and the call bound are the library's defaults.
    /// </summary>
    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(3);

    public static StrategyRunner Create(StrategySpec spec, WorkerTargets targets, CallWork work)
    {
        switch (spec.Name)
        {
            case StrategySpec.ReaderWriter:
                var rw = RedisReaderWriterLock.Create(targets.Redis, new ReaderWriterLockOptions { Name = "fs-rw", WaitTimeout = Wait }, new RedisReaderWriterLockOptions { KeyPrefix = Prefix, Lease = Lease });
                return new ReaderWriterRunner(rw, work);
            case StrategySpec.Combiner:
                return new CombinerRunner(Pipeline(spec, targets), work);
            default:
                return new PipelineRunner(Pipeline(spec, targets), work);
        }
    }

    private static LockPipeline Pipeline(StrategySpec spec, WorkerTargets targets)
    {
        var builder = new LockPipelineBuilder { Name = "fs-" + spec.Name, WaitTimeout = Wait, LoggerFactory = targets.Log };
        switch (spec.Name)
        {
            case StrategySpec.Redis or StrategySpec.MultiKey:
                builder.AddRedisLock(targets.Redis, RedisOptions());
                break;
            case StrategySpec.Dual or StrategySpec.Combiner:
                // What AddDualPipeline composes: the Redis part optional when Redis is unavailable, the row lock inside.
                builder.AddRedisLock(targets.Redis, RedisOptions()).ContinueIfUnavailable()
                    .AddMySqlTransaction(targets.MySql).AddMySqlRowLock(RowTable, "id");
                break;
            case StrategySpec.Distributed:
                // A long hand-off period (a valid setting; the default is 50 ms): a lease fenced off at BEGIN then still
                // has a period left and local callers waiting, and must not be handed to them however long the period is.
                // The fence keeps its writes safe either way, so the checker holds it to handed-on-after-loss, not to a witness window.
                builder.AddRedisLock(targets.Redis, new RedisLockOptions { KeyPrefix = Prefix, Lease = Lease, MaxHandoffTime = TimeSpan.FromMilliseconds(500) })
                    .AddMySqlTransaction(targets.MySql, o =>
                    {
                        o.EnforceFencing = true;
                        o.FenceTable = FenceTable;
                    });
                break;
            case StrategySpec.PostgresDual:
                builder.AddRedisLock(targets.Redis, RedisOptions()).ContinueIfUnavailable()
                    .AddPostgresTransaction(targets.Postgres).AddPostgresRowLock(RowTable, "id");
                break;
            case StrategySpec.PostgresDistributed:
                // As distributed above, with the fence row in PostgreSQL.
                builder.AddRedisLock(targets.Redis, new RedisLockOptions { KeyPrefix = Prefix, Lease = Lease, MaxHandoffTime = TimeSpan.FromMilliseconds(500) })
                    .AddPostgresTransaction(targets.Postgres, o =>
                    {
                        o.EnforceFencing = true;
                        o.FenceTable = FenceTable;
                    });
                break;
            case StrategySpec.PostgresPessimistic:
                builder.AddPostgresTransaction(targets.Postgres).AddPostgresRowLock(RowTable, "id");
                break;
            case StrategySpec.Pessimistic:
                builder.AddMySqlTransaction(targets.MySql).AddMySqlRowLock(RowTable, "id");
                break;
            case StrategySpec.NamedLock:
                builder.AddMySqlNamedLock(targets.MySql, o => o.Prefix = Prefix + ":").AddMySqlTransaction(targets.MySql);
                break;
            case StrategySpec.Redlock:
                builder.AddRedlock(targets.Redlock, new RedlockOptions { KeyPrefix = Prefix, Lease = Lease });
                break;
            case StrategySpec.Semaphore:
                builder.AddRedisSemaphore(targets.Redis, StrategySpec.SemaphorePermits, new RedisSemaphoreOptions { KeyPrefix = Prefix, Lease = Lease });
                break;
            case StrategySpec.None:
                builder.AddNoLock();
                break;
            default:
                throw new ArgumentException($"No pipeline for strategy '{spec.Name}'.", nameof(spec));
        }

        return builder.Build();
    }

    private static RedisLockOptions RedisOptions() => new() { KeyPrefix = Prefix, Lease = Lease };
}
