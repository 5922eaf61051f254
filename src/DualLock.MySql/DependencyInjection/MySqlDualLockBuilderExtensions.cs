using DualLock;
using DualLock.MySql;
using MySqlConnector;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>The MySQL presets of the DualLock builder: one line per strategy.</summary>
public static class MySqlDualLockBuilderExtensions
{
    /// <summary>
    /// Registers a pessimistic strategy: the work runs in a MySQL transaction after
    /// <c>SELECT ... FOR UPDATE</c> on the resource's row, which stays locked until the commit.
    /// </summary>
    /// <param name="builder">The DualLock builder.</param>
    /// <param name="name">The strategy name and DI key.</param>
    /// <param name="configure">Sets the connection string, the table and its key column.</param>
    /// <returns>The builder.</returns>
    /// <remarks>Missing or invalid options fail when the strategy is first resolved, with an <see cref="ArgumentException"/> naming the strategy and the option.</remarks>
    public static DualLockBuilder AddPessimisticStrategy(this DualLockBuilder builder, string name, Action<MySqlStrategyOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        return builder.AddPipeline(name, (pipeline, _) =>
        {
            var options = Configured(configure);
            pipeline.AddMySqlTransaction(options.ConnectionString!, o => o.IsolationLevel = options.IsolationLevel)
                .AddMySqlRowLock(options.Table!, options.KeyColumn!);
        });
    }

    /// <summary>
    /// Registers a named-lock strategy: <c>GET_LOCK</c> on a connection of its own, around a MySQL
    /// transaction the work runs in, for resources that have no row to lock.
    /// </summary>
    /// <param name="builder">The DualLock builder.</param>
    /// <param name="name">The strategy name and DI key.</param>
    /// <param name="configure">Sets the connection string.</param>
    /// <returns>The builder.</returns>
    public static DualLockBuilder AddNamedLockStrategy(this DualLockBuilder builder, string name, Action<MySqlStrategyOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        return builder.AddPipeline(name, (pipeline, _) =>
        {
            var options = Configured(configure);
            pipeline.AddMySqlNamedLock(options.ConnectionString!)
                .AddMySqlTransaction(options.ConnectionString!, o => o.IsolationLevel = options.IsolationLevel);
        });
    }

    /// <summary>
    /// Registers an optimistic strategy: no lock; each attempt runs the work in a MySQL transaction of its own, and
    /// the work writes with a compare-and-set on a version column. A lost compare-and-set
    /// (<see cref="OptimisticConflictException"/>, or a deadlock or lock-wait timeout of the server) rolls the attempt
    /// back and runs the work again after a jittered backoff, up to <see cref="MySqlOptimisticOptions.MaxAttempts"/>.
    /// </summary>
    /// <param name="builder">The DualLock builder.</param>
    /// <param name="name">The strategy name and DI key.</param>
    /// <param name="configure">Sets the connection string and the retry bounds.</param>
    /// <returns>The builder.</returns>
    /// <remarks>
    /// An <see cref="ILockStrategy"/> like the others, called the same way. The work finds the attempt's transaction in
    /// <see cref="MySqlTransactionFeature"/>, the attempt number in <see cref="LockContext.Attempt"/>, and
    /// <see cref="LockContext.RerunsOnConflict"/> set. Every attempt conflicting throws <see cref="LockConflictException"/>;
    /// each attempt's stages get what is left of the wait timeout. Invalid options fail when the strategy is first
    /// resolved, with an <see cref="ArgumentException"/> naming the strategy and the option.
    /// </remarks>
    public static DualLockBuilder AddOptimisticStrategy(this DualLockBuilder builder, string name, Action<MySqlOptimisticOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(configure);
        return builder.AddPipeline(name, (pipeline, _) =>
        {
            var options = new MySqlOptimisticOptions();
            configure(options);
            OptionChecks.ThrowIfAny(options.Validate, $"Strategy '{name}'");
            Optimistic(pipeline, options);
        });
    }

    /// <summary>
    /// Lets <c>AddStrategiesFrom(section)</c> bind the MySQL kinds: <c>pessimistic</c> (<c>ConnectionString</c>, <c>Table</c>,
    /// <c>KeyColumn</c>, <c>IsolationLevel</c>), <c>named-lock</c> (<c>ConnectionString</c>, <c>IsolationLevel</c>) and
    /// <c>optimistic</c> (<c>ConnectionString</c>, <c>IsolationLevel</c>, <c>MaxAttempts</c>, <c>RetryDelay</c>,
    /// <c>MaxRetryDelay</c>), and the database part of the Redis kinds <c>dual</c> and <c>distributed</c>.
    /// </summary>
    /// <param name="builder">The DualLock builder.</param>
    /// <returns>The builder.</returns>
    /// <remarks>Registers no strategy by itself; calling it again is harmless.</remarks>
    public static DualLockBuilder AddMySql(this DualLockBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        MySqlStrategyKinds.AddTo(builder.Registry.Kinds);
        return builder;
    }

    /// <summary>The optimistic strategy's pipeline from validated options.</summary>
    internal static void Optimistic(LockPipelineBuilder pipeline, MySqlOptimisticOptions options)
    {
        pipeline.ConflictRetry = new ConflictRetryOptions
        {
            MaxAttempts = options.MaxAttempts,
            RetryDelay = options.RetryDelay,
            MaxRetryDelay = options.MaxRetryDelay,

            // Two compare-and-sets colliding in the server: the same outcome as a lost version check.
            IsConflict = static ex => ex is MySqlException mysql && (MySqlErrors.IsDeadlock(mysql) || MySqlErrors.IsLockWait(mysql)),
        };
        pipeline.AddMySqlTransaction(options.ConnectionString!, o => o.IsolationLevel = options.IsolationLevel);
    }

    private static MySqlStrategyOptions Configured(Action<MySqlStrategyOptions> configure)
    {
        var options = new MySqlStrategyOptions();
        configure(options);
        return options;
    }
}
