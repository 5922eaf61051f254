using DualLock.Redis;
using StackExchange.Redis;
using static DualLock.IntegrationTests.Redis.RedisTestKit;

namespace DualLock.IntegrationTests.Redis;

/// <summary>
/// Fencing tokens never go backwards when Redis loses the fence counter (restart without
/// persistence, failover losing the last INCR, FLUSHALL, eviction): a token already used must not
/// be issued again, or a fenced store refuses the new holder (or, worse, accepts a stale one).
/// Each test deletes only its own key's counter, or restarts a redis-server of its own.
/// </summary>
public sealed class RedisFencingMonotonicTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RedisLock_FenceKeyDeleted_NextTokenIsHigher()
    {
        var redis = await Servers.SharedRedisAsync();
        var pipeline = Pipeline(redis);
        var key = NewKey();
        var t1 = await TokenAsync(pipeline, key);

        Assert.True(await redis.GetDatabase().KeyDeleteAsync(FenceName(key)), "the fence counter was not where the test expects it");
        var t2 = await TokenAsync(pipeline, key);

        Assert.True(t2 > t1, $"token after the counter was lost: {t2}, before: {t1}");
    }

    [Fact]
    public async Task RedisLock_ServerRestartedEmpty_NextTokenIsHigher()
    {
        await using var server = await PrivateRedisServer.StartAsync();
        var key = NewKey();
        long t1;
        await using (var before = await ConnectAsync(server.Endpoint))
        {
            var pipeline = Pipeline(before);
            t1 = await TokenAsync(pipeline, key);
            t1 = Math.Max(t1, await TokenAsync(pipeline, key));
        }

        await server.StopAsync();
        await server.RestartAsync();
        await using var after = await ConnectAsync(server.Endpoint);
        Assert.False(await after.GetDatabase().KeyExistsAsync(FenceName(key)), "the restarted server kept its data");
        var t2 = await TokenAsync(Pipeline(after), key);

        Assert.True(t2 > t1, $"token after the restart: {t2}, before: {t1}");
    }

    [Fact]
    public async Task RedisLock_CounterAheadOfTheClock_CountsOnFromIt()
    {
        // A counter ahead of Redis' clock (tokens issued faster than one a microsecond, or a clock set back)
        // must still only grow: max(INCR, now), never now alone.
        var redis = await Servers.SharedRedisAsync();
        var key = NewKey();
        var ahead = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000) + 3_600_000_000_000; // 42 days ahead
        await redis.GetDatabase().StringSetAsync(FenceName(key), ahead);

        var t = await TokenAsync(Pipeline(redis), key);

        Assert.Equal((ahead + 1) * RedisFencingTokens.Scale, t); // the stage reports the Redis fence times 64 (see docs/fencing.md)
    }

    [Fact]
    public async Task RedisLock_ClusterFenceKeyDeleted_NextTokenIsHigher()
    {
        await using var cluster = await ConnectAsync(Servers.RedisCluster);
        Assert.True(await EventuallyAsync(() => Task.FromResult(cluster.IsConnected), TimeSpan.FromSeconds(10)), "the cluster did not connect");
        var pipeline = Pipeline(cluster);
        var key = NewKey();
        var t1 = await TokenAsync(pipeline, key);

        Assert.True(await cluster.GetDatabase().KeyDeleteAsync(FenceName(key)), "the fence counter was not where the test expects it");
        var t2 = await TokenAsync(pipeline, key);

        Assert.True(t2 > t1, $"token after the counter was lost: {t2}, before: {t1}");
    }

    [Fact]
    public async Task Redlock_AllNodesRestartedEmpty_NextTokenIsHigher()
    {
        await using var nodes = await PrivateRedlockNodes.StartAsync();
        var key = NewKey();
        var t1 = await TokenAsync(Pipeline(new RedlockStage(nodes.Connections)), key);
        t1 = Math.Max(t1, await TokenAsync(Pipeline(new RedlockStage(nodes.Connections)), key));

        await nodes.RestartEmptyAsync();
        var t2 = await TokenAsync(Pipeline(new RedlockStage(nodes.Connections)), key);

        Assert.True(t2 > t1, $"token after the restart: {t2}, before: {t1}");
    }

    [Fact]
    public async Task Redlock_FenceKeysDeletedOnEveryNode_NextTokenIsHigher()
    {
        await using var nodes = await PrivateRedlockNodes.StartAsync();
        var pipeline = Pipeline(new RedlockStage(nodes.Connections));
        var key = NewKey();
        var t1 = await TokenAsync(pipeline, key);

        for (var i = 0; i < nodes.Connections.Length; i++)
        {
            await nodes.Node(i).KeyDeleteAsync(FenceName(key));
        }

        var t2 = await TokenAsync(pipeline, key);

        Assert.True(t2 > t1, $"token after the counters were lost: {t2}, before: {t1}");
    }

    internal static RedisKey FenceName(LockKey key) => new RedisKeyNames("duallock", key).Fence;

    private static async Task<long> TokenAsync(LockPipeline pipeline, LockKey key)
        => await pipeline.ExecuteAsync(key, (ctx, _) => ValueTask.FromResult(ctx.FencingToken!.Value), cancellationToken: Ct);
}
