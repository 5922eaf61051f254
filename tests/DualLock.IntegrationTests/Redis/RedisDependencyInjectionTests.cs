using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using static DualLock.IntegrationTests.Redis.RedisTestKit;

namespace DualLock.IntegrationTests.Redis;

public sealed class RedisDependencyInjectionTests
{
    [Fact]
    public async Task AddRedis_ConnectionStringAndPipeline_LocksThroughRedis()
    {
        var services = new ServiceCollection();
        services.AddDualLock()
            .AddRedis(Servers.Redis, o => o.KeyPrefix = "duallock")
            .AddPipeline("di-redis", (b, sp) => b.AddRedisLock(sp, o => o.Lease = TimeSpan.FromSeconds(5)));
        await using var provider = services.BuildServiceProvider();
        var pipeline = provider.GetRequiredKeyedService<LockPipeline>("di-redis");
        var redis = provider.GetRequiredService<IConnectionMultiplexer>();
        var key = NewKey();

        var ttl = await pipeline.ExecuteAsync(key, async (_, _) => await redis.GetDatabase().KeyTimeToLiveAsync(LockName(key)), cancellationToken: TestContext.Current.CancellationToken);

        Assert.InRange(ttl!.Value, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(5));
    }
}
