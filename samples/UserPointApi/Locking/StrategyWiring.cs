using DualLock;
using DualLock.MySql;
using DualLock.Redis;
using Microsoft.Extensions.Options;
using MySqlConnector;
using StackExchange.Redis;
using UserPointApi.Data;
using UserPointApi.Points;

namespace UserPointApi.Locking;

/// <summary>
/// Builds the lock pipeline of each strategy from DualLock's stages, and gives the work the
/// transaction a stage opened. The one place that knows the MySQL and Redis packages.
/// </summary>
public sealed class StrategyWiring
{
    private const string PointTable = "user_points";
    private const string LockedColumn = "user_id";
    private readonly MySqlOptimisticExecutor _optimistic;

    public StrategyWiring(Database database, IOptions<LockingOptions> options, TimeProvider timeProvider, ILoggerFactory loggerFactory)
    {
        _optimistic = new MySqlOptimisticExecutor(
            new MySqlOptimisticOptions { ConnectionString = database.ConnectionString, MaxAttempts = options.Value.OptimisticMaxAttempts },
            timeProvider,
            loggerFactory);
    }

    /// <summary>Registers the pipeline of one operation under its name.</summary>
    public static void Register(Microsoft.Extensions.DependencyInjection.DualLockBuilder dualLock, string operation, LockStrategy strategy, LockingOptions options)
    {
        if (strategy == LockStrategy.Dual)
        {
            // Redis outside, the transaction and the row lock inside: Redis is released only after the commit,
            // and when Redis is down the row lock alone still serialises the writes (counted as duallock.fallback).
            dualLock.AddDualPipeline(
                operation,
                (builder, services) => AddRedis(builder, services, options),
                (builder, services) => AddTransaction(builder, services, fenced: true).AddMySqlRowLock(PointTable, LockedColumn),
                fallbackToDatabase: true);
            return;
        }

        dualLock.AddPipeline(operation, (builder, services) => Configure(builder, services, strategy, options));
    }

    /// <summary>Returns the transaction a stage of the pipeline opened, or <see langword="null"/>.</summary>
    public static OpenTransaction? StageTransaction(LockContext context)
        => context.GetFeature<MySqlTransactionFeature>() is { } feature ? new OpenTransaction(feature.Connection, feature.Transaction) : null;

    /// <summary>Runs the work with compare-and-set retries; a lost compare-and-set is reported, rolled back and re-run.</summary>
    public async ValueTask<PointWriteDto> ExecuteOptimisticAsync(LockKey key, Func<MySqlConnection, MySqlTransaction, CancellationToken, Task<PointWriteDto>> work, CancellationToken cancellationToken)
        => await _optimistic.ExecuteAsync(
            key,
            async (attempt, ct) =>
            {
                try
                {
                    return await work(attempt.Connection, attempt.Transaction, ct);
                }
                catch (VersionConflictException)
                {
                    attempt.ReportConflict();
                    return null!;
                }
            },
            cancellationToken);

    private static void Configure(LockPipelineBuilder builder, IServiceProvider services, LockStrategy strategy, LockingOptions options)
    {
        switch (strategy)
        {
            case LockStrategy.None:
                builder.AddNoLock();
                break;
            case LockStrategy.Local:
                builder.AddInProcessLock();
                break;
            case LockStrategy.Atomic:
                builder.AddNoLock("atomic");
                break;
            case LockStrategy.Optimistic:
                // Only for the pipeline's metrics: the optimistic executor does the work.
                builder.AddNoLock("optimistic");
                break;
            case LockStrategy.Pessimistic:
                AddTransaction(builder, services, fenced: false).AddMySqlRowLock(PointTable, LockedColumn);
                break;
            case LockStrategy.Named:
                // GET_LOCK on its own connection, released after the transaction inside it has committed.
                builder.AddMySqlNamedLock(services.GetRequiredService<Database>().ConnectionString);
                AddTransaction(builder, services, fenced: false);
                break;
            case LockStrategy.Distributed:
                // Redis only; the transaction stage inside takes the fence row at BEGIN, so a holder whose
                // lease expired while paused cannot commit over its successor (nor before it).
                AddRedis(builder, services, options);
                AddTransaction(builder, services, fenced: true);
                break;
            case LockStrategy.Redlock:
                // A majority of independent masters instead of one Redis; fenced like distributed.
                builder.AddRedlock(
                    services.GetRequiredService<RedlockNodes>().Connections,
                    new RedlockOptions { KeyPrefix = "userpointapi", Lease = options.Lease, OperationTimeout = options.RedisOperationTimeout });
                AddTransaction(builder, services, fenced: true);
                break;
            default:
                throw new InvalidOperationException($"Strategy {strategy} is registered elsewhere.");
        }
    }

    private static LockPipelineBuilder AddRedis(LockPipelineBuilder builder, IServiceProvider services, LockingOptions options)
        => builder.AddRedisLock(
            services.GetRequiredService<IConnectionMultiplexer>(),
            new RedisLockOptions { KeyPrefix = "userpointapi", Lease = options.Lease, OperationTimeout = options.RedisOperationTimeout });

    private static LockPipelineBuilder AddTransaction(LockPipelineBuilder builder, IServiceProvider services, bool fenced)
        => builder.AddMySqlTransaction(services.GetRequiredService<Database>().ConnectionString, o => o.EnforceFencing = fenced);
}
