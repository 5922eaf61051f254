using DualLock;
using DualLock.Redis;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Redis connection and <see cref="RedisLockOptions"/> for DualLock's Redis stages.</summary>
public static class RedisDualLockBuilderExtensions
{
    /// <summary>
    /// Registers an <see cref="IConnectionMultiplexer"/> for <paramref name="connectionString"/> (unless one is
    /// registered already), connected asynchronously when the host starts, and the <see cref="RedisLockOptions"/>,
    /// validated when the host starts.
    /// </summary>
    /// <param name="builder">The DualLock builder.</param>
    /// <param name="connectionString">
    /// A StackExchange.Redis configuration string, for example <c>localhost:6379</c>. <c>abortConnect=false</c> is
    /// applied, so the application starts while Redis is down; its <c>connectTimeout</c> (default 5000 ms) bounds
    /// how long the host start waits for the connection.
    /// </param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>The builder.</returns>
    /// <remarks>
    /// The host start waits for the connect at most <c>connectTimeout</c> and never fails because of it; the
    /// connection keeps retrying in the background. The Redis stages of <c>AddRedisLock(services)</c> never connect
    /// inside a request: before the connection exists (no host, or Redis still unreachable) a lock call waits for
    /// it at most <see cref="RedisLeaseOptions.OperationTimeout"/>, never past its own wait, then fails with
    /// <see cref="DualLock.LockUnavailableException"/>. Resolving <see cref="IConnectionMultiplexer"/> yourself
    /// waits for the connect (at most <c>connectTimeout</c>).
    /// </remarks>
    public static DualLockBuilder AddRedis(this DualLockBuilder builder, string connectionString, Action<RedisLockOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var configuration = ConfigurationOptions.Parse(connectionString);
        configuration.AbortOnConnectFail = false;
        if (!builder.Services.Any(d => d.ServiceType == typeof(IConnectionMultiplexer)))
        {
            builder.Services.AddSingleton(sp => new RedisConnectionSource(
                configuration, (sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance).CreateLogger("DualLock.Redis")));
            builder.Services.AddSingleton<IConnectionMultiplexer>(static sp => sp.GetRequiredService<RedisConnectionSource>().Connect());
            builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, RedisConnectionStartup>());
        }

        return builder.AddRedis(configure);
    }

    /// <summary>
    /// Registers the <see cref="RedisLockOptions"/>, validated when the host starts, for an <see cref="IConnectionMultiplexer"/>
    /// registered elsewhere; also lets <c>AddStrategiesFrom(section)</c> bind the kinds <c>dual</c> and <c>distributed</c>.
    /// </summary>
    /// <param name="builder">The DualLock builder.</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>The builder.</returns>
    public static DualLockBuilder AddRedis(this DualLockBuilder builder, Action<RedisLockOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddOptions<RedisLockOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisLockOptions>, RedisLockOptionsValidator>());

        // The kinds dual and distributed of AddStrategiesFrom(section); their database part comes from AddMySql().
        RedisStrategyKinds.AddTo(builder.Registry.Kinds);
        return builder;
    }

    /// <summary>
    /// Registers a distributed strategy: a Redis lock outside, the <paramref name="database"/> stages
    /// inside (typically a MySQL transaction with <c>EnforceFencing</c>, so a holder whose lease ended
    /// while it was paused cannot commit over its successor). When Redis is unavailable the execution
    /// fails with <see cref="DualLock.LockUnavailableException"/>.
    /// </summary>
    /// <param name="builder">The DualLock builder; call <c>AddRedis</c> on it too (the connection and options come from DI).</param>
    /// <param name="name">The strategy name and DI key.</param>
    /// <param name="database">Adds the inner stages, for example <c>(b, _) =&gt; b.AddMySqlTransaction(cs, o =&gt; o.EnforceFencing = true)</c>.</param>
    /// <param name="configure">Adjusts a copy of the registered <see cref="RedisLockOptions"/> for this strategy only.</param>
    /// <returns>The builder.</returns>
    /// <remarks>
    /// The database part is a callback rather than MySQL options so that DualLock.Redis needs no
    /// database driver: any stage that enforces the token (<see cref="DualLock.LockStageTraits.EnforcesFencingToken"/>) fits.
    /// A transaction inside that does not enforce the token is refused
    /// (<see cref="DualLock.LockPipelineBuilder.RequireFencedTransactions"/>); work that opens no transaction
    /// and checks <c>context.FencingToken</c> itself is accepted. A missing <c>IConnectionMultiplexer</c>,
    /// invalid options or that refusal fail when the strategy is first resolved.
    /// </remarks>
    public static DualLockBuilder AddDistributedStrategy(
        this DualLockBuilder builder,
        string name,
        Action<DualLock.LockPipelineBuilder, IServiceProvider> database,
        Action<RedisLockOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(database);
        return builder.AddPipeline(name, (pipeline, services) =>
        {
            pipeline.RequireFencedTransactions = true; // the preset promises a fenced transaction: Build() checks it
            pipeline.AddRedisLock(services, configure);
            database(pipeline, services);
        });
    }

    /// <summary>
    /// Registers a dual strategy: a Redis lock outside, the <paramref name="database"/> stages (a
    /// transaction and a row lock) inside, and when Redis is unavailable the database lock alone
    /// (counted as <c>duallock.fallback</c>); see <see cref="DualLockBuilder.AddDualPipeline"/>.
    /// </summary>
    /// <param name="builder">The DualLock builder; call <c>AddRedis</c> on it too.</param>
    /// <param name="name">The strategy name and DI key.</param>
    /// <param name="database">Adds the inner stages; they must lock (a row lock), or the pipeline does not build.</param>
    /// <param name="configure">Adjusts a copy of the registered <see cref="RedisLockOptions"/> for this strategy only.</param>
    /// <returns>The builder.</returns>
    public static DualLockBuilder AddDualStrategy(
        this DualLockBuilder builder,
        string name,
        Action<DualLock.LockPipelineBuilder, IServiceProvider> database,
        Action<RedisLockOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(database);
        return builder.AddDualPipeline(name, (pipeline, services) => pipeline.AddRedisLock(services, configure), database, fallbackToDatabase: true);
    }
}
