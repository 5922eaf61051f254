using DualLock;
using MySqlConnector;
using UserPointApi.Points;

namespace UserPointApi.Locking;

/// <summary>
/// Builds the lock pipeline of each strategy from DualLock's stages, and gives the work the
/// transaction a stage opened. The one place that knows the MySQL and Redis packages.
/// </summary>
public sealed class StrategyWiring
{
    /// <summary>Registers the pipeline of one operation under its name.</summary>
    public static void Register(Microsoft.Extensions.DependencyInjection.DualLockBuilder dualLock, string operation, LockStrategy strategy, LockingOptions options)
        => dualLock.AddPipeline(operation, (builder, services) => Configure(builder, services, strategy, options));

    /// <summary>Adds the stages of <paramref name="strategy"/>; throws a configuration error when its package is missing.</summary>
    public static void Configure(LockPipelineBuilder builder, IServiceProvider services, LockStrategy strategy, LockingOptions options)
    {
        _ = services;
        _ = options;
        switch (strategy)
        {
            case LockStrategy.None:
                builder.AddNoLock();
                break;
            case LockStrategy.Local:
                builder.AddInProcessLock();
                break;
            case LockStrategy.Atomic:
                builder.AddStage(new NoLockStage("atomic"));
                break;
            default:
                throw Missing(strategy);
        }
    }

    /// <summary>Returns the transaction a stage of the pipeline opened, or <see langword="null"/>.</summary>
    public OpenTransaction? StageTransaction(LockContext context)
    {
        _ = context;
        return null;
    }

    public ValueTask<PointWriteDto> ExecuteOptimisticAsync(LockKey key, Func<MySqlConnection, MySqlTransaction, CancellationToken, Task<PointWriteDto>> work, CancellationToken cancellationToken)
    {
        _ = key;
        _ = work;
        _ = cancellationToken;
        throw Missing(LockStrategy.Optimistic);
    }

    internal static InvalidOperationException Missing(LockStrategy strategy)
    {
        var package = strategy is LockStrategy.Distributed or LockStrategy.Dual ? "DualLock.Redis (AddRedisLock) and DualLock.MySql" : "DualLock.MySql";
        return new InvalidOperationException(
            $"Locking strategy '{strategy.ToString().ToLowerInvariant()}' needs package {package}, whose stages are not available in this build.");
    }
}
