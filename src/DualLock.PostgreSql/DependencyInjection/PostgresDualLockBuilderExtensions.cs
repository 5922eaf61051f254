using DualLock;
using DualLock.PostgreSql;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>The PostgreSQL presets of the DualLock builder: one line per strategy.</summary>
public static class PostgresDualLockBuilderExtensions
{
    /// <summary>
    /// Registers a pessimistic strategy: the work runs in a PostgreSQL transaction after <c>SELECT ... FOR UPDATE</c> on
    /// the resource's row, which stays locked until the commit.
    /// </summary>
    /// <param name="builder">The DualLock builder.</param>
    /// <param name="name">The strategy name and DI key.</param>
    /// <param name="configure">Sets the connection string, the table and its key column.</param>
    /// <returns>The builder.</returns>
    /// <remarks>Missing or invalid options fail when the strategy is built, with an <see cref="ArgumentException"/> naming the strategy and the option.</remarks>
    public static DualLockBuilder AddPostgresPessimisticStrategy(this DualLockBuilder builder, string name, Action<PostgresStrategyOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        return builder.AddPipeline(name, (pipeline, _) =>
        {
            var options = Configured(configure);
            pipeline.AddPostgresTransaction(options.ConnectionString!, o => o.IsolationLevel = options.IsolationLevel)
                .AddPostgresRowLock(options.Table!, options.KeyColumn!);
        });
    }

    /// <summary>
    /// Registers an advisory-lock strategy: a PostgreSQL transaction the work runs in, holding a transaction-scoped
    /// advisory lock (<c>pg_advisory_xact_lock</c>) per key, for resources that have no row to lock.
    /// </summary>
    /// <param name="builder">The DualLock builder.</param>
    /// <param name="name">The strategy name and DI key.</param>
    /// <param name="configure">Sets the connection string.</param>
    /// <returns>The builder.</returns>
    public static DualLockBuilder AddPostgresAdvisoryLockStrategy(this DualLockBuilder builder, string name, Action<PostgresStrategyOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        return builder.AddPipeline(name, (pipeline, _) =>
        {
            var options = Configured(configure);
            pipeline.AddPostgresTransaction(options.ConnectionString!, o => o.IsolationLevel = options.IsolationLevel)
                .AddPostgresAdvisoryLock();
        });
    }

    /// <summary>
    /// Registers an optimistic strategy: no lock; each attempt runs the work in a PostgreSQL transaction of its own, and
    /// the work writes with a compare-and-set on a version column. A lost compare-and-set
    /// (<see cref="OptimisticConflictException"/>), a serialization failure (40001), a deadlock (40P01) or a lock wait
    /// that ran out (55P03) rolls the attempt back and runs the work again after a jittered backoff, up to
    /// <see cref="PostgresOptimisticOptions.MaxAttempts"/>.
    /// </summary>
    /// <param name="builder">The DualLock builder.</param>
    /// <param name="name">The strategy name and DI key.</param>
    /// <param name="configure">Sets the connection string and the retry bounds.</param>
    /// <returns>The builder.</returns>
    public static DualLockBuilder AddPostgresOptimisticStrategy(this DualLockBuilder builder, string name, Action<PostgresOptimisticOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(configure);
        return builder.AddPipeline(name, (pipeline, _) =>
        {
            var options = new PostgresOptimisticOptions();
            configure(options);
            OptionChecks.ThrowIfAny(options.Validate, $"Strategy '{name}'");
            Optimistic(pipeline, options);
        });
    }

    /// <summary>
    /// Lets <c>AddStrategiesFrom(section)</c> bind the PostgreSQL kinds: <c>postgres-pessimistic</c> (<c>ConnectionString</c>,
    /// <c>Table</c>, <c>KeyColumn</c>, <c>IsolationLevel</c>), <c>postgres-advisory-lock</c> (<c>ConnectionString</c>,
    /// <c>IsolationLevel</c>) and <c>postgres-optimistic</c> (<c>ConnectionString</c>, <c>IsolationLevel</c>,
    /// <c>MaxAttempts</c>, <c>RetryDelay</c>, <c>MaxRetryDelay</c>), and the database part of the Redis kinds <c>dual</c>
    /// and <c>distributed</c> when their section says <c>Database = postgres</c>.
    /// </summary>
    /// <param name="builder">The DualLock builder.</param>
    /// <returns>The builder.</returns>
    /// <remarks>Registers no strategy by itself; calling it again is harmless.</remarks>
    public static DualLockBuilder AddPostgreSql(this DualLockBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        PostgresStrategyKinds.AddTo(builder.Registry.Kinds);
        return builder;
    }

    /// <summary>The optimistic strategy's pipeline from validated options.</summary>
    internal static void Optimistic(LockPipelineBuilder pipeline, PostgresOptimisticOptions options)
    {
        pipeline.ConflictRetry = new ConflictRetryOptions
        {
            MaxAttempts = options.MaxAttempts,
            RetryDelay = options.RetryDelay,
            MaxRetryDelay = options.MaxRetryDelay,

            // Two compare-and-sets colliding in the server: the same outcome as a lost version check.
            IsConflict = static ex => PostgresErrors.IsConflict(ex) || PostgresErrors.IsLockWait(ex),
        };
        pipeline.AddPostgresTransaction(options.ConnectionString!, o => o.IsolationLevel = options.IsolationLevel);
    }

    private static PostgresStrategyOptions Configured(Action<PostgresStrategyOptions> configure)
    {
        var options = new PostgresStrategyOptions();
        configure(options);
        return options;
    }
}
