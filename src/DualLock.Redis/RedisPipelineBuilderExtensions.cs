using DualLock.Redis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace DualLock;

/// <summary>Adds the Redis stages to a pipeline: a lock per key on one Redis (or a cluster), or a Redlock quorum.</summary>
public static class RedisPipelineBuilderExtensions
{
    /// <summary>
    /// Adds a Redis lock per key: an atomic acquire that issues a fencing token, compare-token release
    /// and renewal, release messages that wake waiters, a first-come-first-served queue per key in the
    /// process with bounded local hand-off; while Redis is known to be unavailable, acquires fail at once.
    /// </summary>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="redis">The connection; share one per application.</param>
    /// <param name="options">The options, copied and validated here. Default: <see cref="RedisLockOptions"/> defaults.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public static LockPipelineBuilder AddRedisLock(this LockPipelineBuilder builder, IConnectionMultiplexer redis, RedisLockOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(redis);
        return builder.AddStage(
            options ?? new RedisLockOptions(),
            (context, o) => new RedisLockStage(redis, o, context.TimeProvider, context.LoggerFactory, context.Meter));
    }

    /// <summary>
    /// Adds a Redis lock using the <see cref="IConnectionMultiplexer"/> and the <see cref="RedisLockOptions"/>
    /// registered in DI (see <c>AddRedis</c> on the DualLock builder).
    /// </summary>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="services">The service provider the pipeline is built from.</param>
    /// <param name="configure">Adjusts a copy of the registered options for this pipeline only.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The options, once adjusted, are invalid; the message lists every problem.</exception>
    /// <exception cref="InvalidOperationException">No <see cref="IConnectionMultiplexer"/> is registered.</exception>
    public static LockPipelineBuilder AddRedisLock(this LockPipelineBuilder builder, IServiceProvider services, Action<RedisLockOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(services);

        // One copy, adjusted for this pipeline and validated once when added; the registered options stay untouched.
        var options = (RedisLockOptions)(services.GetService<IOptionsMonitor<RedisLockOptions>>()?.CurrentValue ?? new RedisLockOptions()).Copy();
        configure?.Invoke(options);
        if (services.GetService<RedisConnectionSource>() is { } source)
        {
            // The connection AddRedis(connectionString) registered: made at host start, never inside a request.
            return builder.AddOwnedStage(options, (context, o) => new ConnectingRedisLockStage(source, o, context));
        }

        var redis = services.GetService<IConnectionMultiplexer>() ?? throw new InvalidOperationException(
            "No IConnectionMultiplexer is registered; call services.AddDualLock().AddRedis(connectionString) or register one yourself.");
        return builder.AddOwnedStage(options, (context, o) => new RedisLockStage(redis, o, context.TimeProvider, context.LoggerFactory, context.Meter));
    }

    /// <summary>
    /// Adds a Redlock quorum lock over independent Redis masters: held only when a majority granted it
    /// within its validity; renewal needs a majority too; the fencing token is the highest counter of
    /// the granting majority.
    /// </summary>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="nodes">One connection per independent master (three or five in practice).</param>
    /// <param name="options">The options, copied and validated here. Default: <see cref="RedlockOptions"/> defaults.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">No node, a node is null, or the options are invalid (the message lists every problem).</exception>
    public static LockPipelineBuilder AddRedlock(this LockPipelineBuilder builder, IReadOnlyList<IConnectionMultiplexer> nodes, RedlockOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(nodes);
        if (nodes.Count == 0 || nodes.Any(n => n is null))
        {
            throw new ArgumentException("Redlock needs at least one node connection (three or more independent masters in practice), and none may be null.", nameof(nodes));
        }

        IConnectionMultiplexer[] copy = [.. nodes];
        return builder.AddStage(
            options ?? new RedlockOptions(),
            (context, o) => new RedlockStage(copy, o, context.TimeProvider, context.LoggerFactory, context.Meter));
    }
}
