using DualLock;
using DualLock.Redis;
using Microsoft.EntityFrameworkCore;
using UserPointApi.Data;

namespace UserPointApi.Locking;

/// <summary>
/// The strategies of charge and use under <c>Points:DataAccess=ef</c>: the same compositions as <see cref="StrategyWiring"/>'s,
/// with the EF Core transaction stage (a <see cref="PointsDb"/> in the lock's transaction) and the row lock read from the
/// model, so the comparison measures EF Core and nothing else.
/// </summary>
public static class EfStrategyWiring
{
    public static readonly IReadOnlyList<LockStrategy> Supported = [LockStrategy.None, LockStrategy.Pessimistic, LockStrategy.Distributed, LockStrategy.Dual];

    public static void Register(DualLockBuilder dualLock, string operation, LockStrategy strategy, Action<RedisLockOptions> redis)
    {
        _ = strategy switch
        {
            // The negative control: a transaction and no lock, the raw none's shape (its own transaction, no lock).
            LockStrategy.None => dualLock.AddPipeline(operation, (b, services) => b.AddEntityFrameworkCoreTransaction(Contexts(services))),
            LockStrategy.Pessimistic => dualLock.AddPipeline(operation, (b, services) => RowLocked(b, Contexts(services))),
            LockStrategy.Distributed => dualLock.AddDistributedStrategy(operation, (b, services) => b.AddEntityFrameworkCoreTransaction(Contexts(services), o => o.EnforceFencing = true), redis),
            LockStrategy.Dual => dualLock.AddDualStrategy(operation, (b, services) => RowLocked(b, Contexts(services)), redis),
            _ => throw new InvalidOperationException(
                $"Points:DataAccess=ef runs {operation} under {string.Join(", ", Supported).ToLowerInvariant()} only; Locking configures {strategy.ToString().ToLowerInvariant()} for it."),
        };
    }

    private static IDbContextFactory<PointsDb> Contexts(IServiceProvider services) => services.GetRequiredService<IDbContextFactory<PointsDb>>();

    private static LockPipelineBuilder RowLocked(LockPipelineBuilder builder, IDbContextFactory<PointsDb> contexts)
        => builder.AddEntityFrameworkCoreTransaction(contexts).AddEntityFrameworkCoreRowLock<PointsDb, UserPointEntity>(contexts);
}
