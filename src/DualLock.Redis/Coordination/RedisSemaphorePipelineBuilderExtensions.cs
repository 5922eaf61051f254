using DualLock.Redis;
using StackExchange.Redis;

namespace DualLock;

/// <summary>Adds a Redis semaphore stage to a pipeline.</summary>
public static class RedisSemaphorePipelineBuilderExtensions
{
    /// <summary>
    /// Adds a semaphore per key in Redis: at most <paramref name="permits"/> callers hold a key at once over
    /// every process; waiters of one process go in arrival order, woken by releases; every holder has a
    /// renewed lease, and the permit of a holder that died comes back when its lease ends.
    /// </summary>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="redis">The connection; share one per application.</param>
    /// <param name="permits">How many callers may hold one key at once; every process must use the same number.</param>
    /// <param name="options">The options, copied and validated here. Default: <see cref="RedisSemaphoreOptions"/> defaults.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The options are invalid (the message lists every problem) or <paramref name="permits"/> is below 1.</exception>
    public static LockPipelineBuilder AddRedisSemaphore(this LockPipelineBuilder builder, IConnectionMultiplexer redis, int permits, RedisSemaphoreOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentOutOfRangeException.ThrowIfLessThan(permits, 1);
        return builder.AddStage(options ?? new RedisSemaphoreOptions(), (context, validated) =>
        {
            var shared = new RedisGateShared(redis, new RedisGateSettings(validated), permits, context.TimeProvider, context.LoggerFactory.CreateLogger("DualLock.Redis"), context.Meter);
            return new RedisGateStage(validated.Name, shared, RedisGateKind.Permit);
        });
    }
}
