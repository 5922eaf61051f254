using Microsoft.EntityFrameworkCore;

namespace DualLock.EntityFrameworkCore;

/// <summary>The execution's <typeparamref name="TContext"/>, enlisted in the lock's transaction; read with <c>context.GetDbContext&lt;TContext&gt;()</c>.</summary>
internal sealed class DbContextFeature<TContext>(TContext dbContext)
    where TContext : DbContext
{
    public TContext DbContext { get; } = dbContext;
}
