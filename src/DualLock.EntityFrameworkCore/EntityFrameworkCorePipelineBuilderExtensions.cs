using DualLock.EntityFrameworkCore;
using DualLock.MySql;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace DualLock;

/// <summary>
/// Adds the EF Core stages to a pipeline: the MySQL transaction with a <see cref="DbContext"/> enlisted in it, and a
/// row lock on an entity's row.
/// <code>
/// builder.AddRedisLock(...)                                         // outside: released after the commit
///        .AddEntityFrameworkCoreTransaction(contexts)               // the transaction, and a context in it
///        .AddEntityFrameworkCoreRowLock&lt;ShopDb, Account&gt;(contexts); // SELECT ... FOR UPDATE on the Account row
/// </code>
/// </summary>
public static class EntityFrameworkCorePipelineBuilderExtensions
{
    private const string LoggerCategory = "DualLock.EntityFrameworkCore";

    /// <summary>
    /// Adds the MySQL transaction stage (<see cref="MySqlPipelineBuilderExtensions.AddMySqlTransaction(LockPipelineBuilder, MySqlTransactionOptions)"/>)
    /// with a <typeparamref name="TContext"/> enlisted in its transaction; the work gets it with
    /// <see cref="LockContextDbContextExtensions.GetDbContext{TContext}(LockContext)"/>.
    /// </summary>
    /// <typeparam name="TContext">The context type; its provider must be Pomelo.EntityFrameworkCore.MySql.</typeparam>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="contexts">Creates one context per execution: <c>AddDbContextFactory</c> or <c>AddPooledDbContextFactory</c> registers it.</param>
    /// <param name="configure">
    /// Adjusts the transaction's options (<see cref="MySqlTransactionOptions.EnforceFencing"/>, the isolation level ...);
    /// optional. <see cref="MySqlTransactionOptions.ConnectionString"/> defaults to the context's own.
    /// </param>
    /// <returns>The builder.</returns>
    /// <remarks>
    /// Each execution: the transaction stage opens its connection, begins and (with fencing) records the token exactly as
    /// <c>AddMySqlTransaction</c>; then a new context from <paramref name="contexts"/> is put on that connection
    /// (<c>SetDbConnection</c>) and in that transaction (<c>UseTransaction</c>). When the work returns, what it left unsaved is
    /// saved (<c>SaveChangesAsync</c>) and the transaction committed; a save that fails rolls back and its exception reaches
    /// the caller. When the work throws, nothing is saved and the transaction is rolled back. The context is disposed either
    /// way; the work must not begin, commit or roll back a transaction on it, nor keep it.
    /// <para>
    /// Checked here, once: the options (as <c>AddMySqlTransaction</c>), the context's provider (Pomelo), that it does not retry
    /// on failure, and that the connection string sets <c>AllowUserVariables=True</c> and <c>UseAffectedRows=False</c>, without
    /// which Pomelo refuses the lock's connection at every execution. One <see cref="ArgumentException"/> names the pipeline and
    /// the stage and lists every problem.
    /// </para>
    /// </remarks>
    public static LockPipelineBuilder AddEntityFrameworkCoreTransaction<TContext>(
        this LockPipelineBuilder builder,
        IDbContextFactory<TContext> contexts,
        Action<MySqlTransactionOptions>? configure = null)
        where TContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(contexts);
        var options = new MySqlTransactionOptions();
        configure?.Invoke(options);
        var problems = new List<string>();
        using (var db = contexts.CreateDbContext())
        {
            DbContextChecks.Context(db, problems);
            if (problems.Count == 0)
            {
                options.ConnectionString ??= db.Database.GetConnectionString();
            }
        }

        foreach (var problem in options.Validate())
        {
            problems.Add(problem);
        }

        DbContextChecks.ConnectionString(options, problems);
        OptionChecks.ThrowIfAny(problems, $"Pipeline '{builder.Name}', stage '{options.Name}'");
        return builder.AddStage(options, (context, o) => new EntityFrameworkCoreTransactionStage<TContext>(
            MySqlPipelineBuilderExtensions.TransactionStage(context, o),
            contexts,
            context.LoggerFactory.CreateLogger(LoggerCategory)));
    }

    /// <summary>
    /// Adds a row lock on the row of <typeparamref name="TEntity"/> whose primary key is the lock key's id: the MySQL row lock
    /// (<see cref="MySqlPipelineBuilderExtensions.AddMySqlRowLock(LockPipelineBuilder, MySqlRowLockOptions)"/>) with the table and key
    /// column read from <typeparamref name="TContext"/>'s model, inside the transaction stage added before it.
    /// </summary>
    /// <typeparam name="TContext">The context whose model maps the entity.</typeparam>
    /// <typeparam name="TEntity">The entity type, mapped to a table, with a primary key of one property.</typeparam>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="contexts">Creates a context once, here, to read the model.</param>
    /// <param name="configure">Adjusts the wait mode and the retry delays; optional.</param>
    /// <returns>The builder.</returns>
    /// <remarks>
    /// The same stage as <c>AddMySqlRowLock</c>: <c>SELECT 1 FROM `table` WHERE `key` = @id FOR UPDATE</c> in the transaction,
    /// its wait bounded by what is left of the pipeline's (the server's <c>innodb_lock_wait_timeout</c> cut short on time), a
    /// timeout or deadlock a <see cref="LockTimeoutException"/>, a missing row a <see cref="MySqlRowNotFoundException"/>. A table
    /// or column that is not a plain identifier, or a schema, is quoted by the provider. An entity that is not in the model,
    /// is not mapped to a table or has a composite key is an <see cref="ArgumentException"/> here.
    /// </remarks>
    public static LockPipelineBuilder AddEntityFrameworkCoreRowLock<TContext, TEntity>(
        this LockPipelineBuilder builder,
        IDbContextFactory<TContext> contexts,
        Action<MySqlRowLockOptions>? configure = null)
        where TContext : DbContext
        where TEntity : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(contexts);
        var options = new MySqlRowLockOptions();
        configure?.Invoke(options);
        var problems = new List<string>();
        using (var db = contexts.CreateDbContext())
        {
            EntityRowTarget.Apply(db, typeof(TEntity), options, problems);
        }

        OptionChecks.ThrowIfAny(problems, $"Pipeline '{builder.Name}', stage '{options.Name}'");
        return builder.AddMySqlRowLock(options);
    }
}
