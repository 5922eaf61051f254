using DualLock.Redis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace DualLock;

/// <summary>Adds the <see cref="RedisLockStage"/> to a pipeline.</summary>
public static class RedisPipelineBuilderExtensions
{
    /// <summary>Adds a Redis lock per key (fencing tokens, renewal, wake-up on release, local hand-off).</summary>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="redis">The connection; share one per application.</param>
    /// <param name="options">The options, validated here. Default: <see cref="RedisLockOptions"/> defaults.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public static LockPipelineBuilder AddRedisLock(this LockPipelineBuilder builder, IConnectionMultiplexer redis, RedisLockOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(redis);
        var validated = (options ?? new RedisLockOptions()).Clone();
        validated.Validate();
        return builder.AddStage(context => new RedisLockStage(redis, validated, context.TimeProvider, context.LoggerFactory));
    }

    /// <summary>
    /// Adds a Redis lock using the <see cref="IConnectionMultiplexer"/> and the <see cref="RedisLockOptions"/>
    /// registered in DI (see <c>AddRedis</c> on the DualLock builder).
    /// </summary>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="services">The service provider the pipeline is built from.</param>
    /// <param name="configure">Adjusts a copy of the registered options for this pipeline only.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="InvalidOperationException">No <see cref="IConnectionMultiplexer"/> is registered.</exception>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public static LockPipelineBuilder AddRedisLock(this LockPipelineBuilder builder, IServiceProvider services, Action<RedisLockOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(services);
        var redis = services.GetService<IConnectionMultiplexer>() ?? throw new InvalidOperationException(
            "No IConnectionMultiplexer is registered; call services.AddDualLock().AddRedis(connectionString) or register one yourself.");
        var options = (services.GetService<IOptionsMonitor<RedisLockOptions>>()?.CurrentValue ?? new RedisLockOptions()).Clone();
        configure?.Invoke(options);
        return builder.AddRedisLock(redis, options);
    }

    /// <summary>Adds a Redlock quorum lock over independent Redis masters.</summary>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="nodes">One connection per independent master (three or five in practice).</param>
    /// <param name="options">The options, validated here. Default: <see cref="RedlockOptions"/> defaults.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">No node, or the options are invalid.</exception>
    public static LockPipelineBuilder AddRedlock(this LockPipelineBuilder builder, IReadOnlyList<IConnectionMultiplexer> nodes, RedlockOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(nodes);
        var validated = (options ?? new RedlockOptions()).Clone();
        validated.Validate();
        return builder.AddStage(context => new RedlockStage(nodes, validated, context.TimeProvider, context.LoggerFactory));
    }
}
