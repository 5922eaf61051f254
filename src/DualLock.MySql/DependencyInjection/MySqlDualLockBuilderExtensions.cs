using DualLock;
using DualLock.MySql;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

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
    /// Registers a keyed singleton <see cref="MySqlOptimisticExecutor"/> under <paramref name="name"/>:
    /// no lock, a compare-and-set on a version column, the work re-run after a conflict.
    /// </summary>
    /// <param name="builder">The DualLock builder.</param>
    /// <param name="name">The DI key.</param>
    /// <param name="configure">Sets the connection string and the retry bounds.</param>
    /// <returns>The builder.</returns>
    /// <remarks>
    /// Not an <see cref="ILockStrategy"/>: a lock strategy runs the work once under a lock, while the
    /// optimistic executor runs it again after each lost compare-and-set, and hands it a
    /// <see cref="MySqlOptimisticAttempt"/> instead of a <see cref="LockContext"/>. Resolve it with
    /// <c>[FromKeyedServices(name)] MySqlOptimisticExecutor</c>. Invalid options fail at first resolve.
    /// </remarks>
    public static DualLockBuilder AddOptimisticStrategy(this DualLockBuilder builder, string name, Action<MySqlOptimisticOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddKeyedSingleton(name, (services, _) =>
        {
            var options = new MySqlOptimisticOptions { Name = name };
            configure(options);
            return new MySqlOptimisticExecutor(
                options,
                services.GetService<TimeProvider>() ?? TimeProvider.System,
                services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance);
        });
        return builder;
    }

    private static MySqlStrategyOptions Configured(Action<MySqlStrategyOptions> configure)
    {
        var options = new MySqlStrategyOptions();
        configure(options);
        return options;
    }
}
