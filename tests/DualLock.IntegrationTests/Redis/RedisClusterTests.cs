using StackExchange.Redis;
using static DualLock.IntegrationTests.Redis.RedisTestKit;

namespace DualLock.IntegrationTests.Redis;

public sealed class RedisClusterTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RedisLock_ClusterWithKeysOnDifferentSlots_ExcludesFencesAndWakes()
    {
        await using var cluster = await ConnectAsync(Servers.RedisCluster);
        Assert.True(await EventuallyAsync(() => Task.FromResult(cluster.IsConnected), TimeSpan.FromSeconds(10)), "the cluster did not connect");
        var pipeline = Pipeline(cluster, wait: TimeSpan.FromSeconds(20));
        var other = Pipeline(cluster, wait: TimeSpan.FromSeconds(20)); // a second stage contends like another process
        var keys = Enumerable.Range(0, 12).Select(_ => NewKey()).ToArray();
        var slots = keys.Select(k => cluster.HashSlot(LockName(k))).Distinct().Count();
        Assert.True(slots > 1);

        var overlaps = 0;
        await Task.WhenAll(keys.Select(async key =>
        {
            var inside = 0;
            long last = 0;
            await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Task.Run(async () =>
            {
                for (var n = 0; n < 5; n++)
                {
                    await (i % 2 == 0 ? pipeline : other).ExecuteAsync(key, async (ctx, _) =>
                    {
                        if (Interlocked.Increment(ref inside) != 1 || ctx.FencingToken < Interlocked.Read(ref last))
                        {
                            Interlocked.Increment(ref overlaps);
                        }

                        Interlocked.Exchange(ref last, ctx.FencingToken!.Value);
                        await Task.Delay(1, CancellationToken.None);
                        Interlocked.Decrement(ref inside);
                    }, cancellationToken: Ct);
                }
            })));
        }));

        Assert.Equal(0, overlaps);
        foreach (var key in keys)
        {
            Assert.False(await cluster.GetDatabase().KeyExistsAsync(LockName(key)));
        }
    }
}
