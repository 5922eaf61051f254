using DualLock.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace DualLock;

/// <summary>Gives the work the <see cref="DbContext"/> that writes in the lock's transaction.</summary>
public static class LockContextDbContextExtensions
{
    /// <summary>
    /// Gets the <typeparamref name="TContext"/> of this execution: created for it by the stage that
    /// <see cref="EntityFrameworkCorePipelineBuilderExtensions.AddEntityFrameworkCoreTransaction{TContext}(LockPipelineBuilder, IDbContextFactory{TContext}, Action{DualLock.MySql.MySqlTransactionOptions}?)"/>
    /// added, on the transaction's connection and in its transaction.
    /// </summary>
    /// <typeparam name="TContext">The context type the stage was added for.</typeparam>
    /// <param name="context">The execution context the work received.</param>
    /// <returns>The context; the stage disposes it, and saves what the work left unsaved before the commit.</returns>
    /// <exception cref="InvalidOperationException">No stage of the pipeline enlists a <typeparamref name="TContext"/>.</exception>
    public static TContext GetDbContext<TContext>(this LockContext context)
        where TContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.GetFeature<DbContextFeature<TContext>>()?.DbContext ?? throw new InvalidOperationException(
            $"No stage of pipeline '{context.PipelineName}' enlists a {typeof(TContext).Name}: add AddEntityFrameworkCoreTransaction<{typeof(TContext).Name}>(...) to the pipeline, in place of AddMySqlTransaction.");
    }
}
