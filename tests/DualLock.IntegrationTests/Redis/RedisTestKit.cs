using DualLock.Redis;
using StackExchange.Redis;

namespace DualLock.IntegrationTests.Redis;

/// <summary>Pipelines over the real Redis for one test, each on its own key.</summary>
internal static class RedisTestKit
{
    public static LockKey NewKey() => new("test", Guid.NewGuid().ToString("N"));

    public static RedisKey LockName(LockKey key) => $"duallock:{{{key}}}";

    public static LockPipeline Pipeline(IConnectionMultiplexer redis, RedisLockOptions? options = null, TimeSpan? wait = null)
        => Pipeline(new RedisLockStage(redis, options), wait);

    public static LockPipeline Pipeline(LockStage stage, TimeSpan? wait = null)
        => new LockPipelineBuilder { Name = "redis-test", WaitTimeout = wait ?? TimeSpan.FromSeconds(10) }.AddStage(stage).Build();

    public static async Task<ConnectionMultiplexer> ConnectAsync(string configuration)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = 1000;
        return await ConnectionMultiplexer.ConnectAsync(options);
    }

    public static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan within)
    {
        var until = DateTime.UtcNow + within;
        while (DateTime.UtcNow < until)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(20);
        }

        return await condition();
    }
}
