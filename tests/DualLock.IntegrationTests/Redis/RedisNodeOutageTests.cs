using System.Diagnostics;
using DualLock.Redis;
using StackExchange.Redis;
using static DualLock.IntegrationTests.Redis.RedisTestKit;

namespace DualLock.IntegrationTests.Redis;

/// <summary>
/// Redis and Redlock nodes going down and coming back. The servers stopped are private ones the tests
/// start themselves: stopping the shared Redlock nodes failed other test assemblies running at the same time.
/// </summary>
[Collection(nameof(RedisNodeOutageTests))]
[CollectionDefinition(nameof(RedisNodeOutageTests), DisableParallelization = true)]
public sealed class RedisNodeOutageTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RedisLock_ServerStoppedThenRestarted_UnavailableWithinBoundThenWorksAgain()
    {
        await using var server = await PrivateRedisServer.StartAsync();
        await using var redis = await ConnectAsync(server.Endpoint);
        var pipeline = Pipeline(redis, new RedisLockOptions { OperationTimeout = TimeSpan.FromMilliseconds(500) }, wait: TimeSpan.FromSeconds(30));
        await pipeline.ExecuteAsync(NewKey(), (_, _) => ValueTask.CompletedTask, cancellationToken: Ct);

        await server.StopAsync();
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAsync<LockUnavailableException>(async () => await pipeline.ExecuteAsync(NewKey(), (_, _) => ValueTask.CompletedTask, cancellationToken: Ct));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
        await server.RestartAsync();

        Assert.True(await EventuallyAsync(() => Task.FromResult(redis.IsConnected), TimeSpan.FromSeconds(15)));

        // The stage learns the outage is over from its probe (every OutageProbeInterval): within a bound, not at once.
        long? fence = null;
        Assert.True(await EventuallyAsync(
            async () =>
            {
                try
                {
                    fence = await pipeline.ExecuteAsync(NewKey(), (ctx, _) => ValueTask.FromResult(ctx.FencingToken), cancellationToken: Ct);
                    return true;
                }
                catch (LockUnavailableException)
                {
                    return false;
                }
            },
            TimeSpan.FromSeconds(5)));
        Assert.True(fence > 0);
    }

    [Fact]
    public async Task RedisLock_ServerStopped_QueuedLocalWaitersAllFailAsUnavailableNotTimeout()
    {
        // Ten callers on one key: one contends in Redis, nine queue behind it. When Redis does not
        // answer, all ten must learn "unavailable" (a dual pipeline then falls back), not wait their
        // turn one bounded attempt after another until their wait ends as a timeout.
        await using var server = await PrivateRedisServer.StartAsync();
        await using var redis = await ConnectAsync(server.Endpoint);
        var pipeline = Pipeline(redis, new RedisLockOptions { OperationTimeout = TimeSpan.FromMilliseconds(500) }, wait: TimeSpan.FromSeconds(2));
        await pipeline.ExecuteAsync(NewKey(), (_, _) => ValueTask.CompletedTask, cancellationToken: Ct);
        var key = NewKey();

        await server.StopAsync();
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 10).Select(async _ =>
        {
            try
            {
                await pipeline.ExecuteAsync(key, (_, _) => ValueTask.CompletedTask, cancellationToken: Ct);
                return null;
            }
            catch (Exception ex)
            {
                return ex;
            }
        }));

        Assert.All(outcomes, ex => Assert.IsType<LockUnavailableException>(ex));
    }

    [Fact]
    public async Task Redlock_ThreeNodes_ExcludesAndFencesAcrossStages()
    {
        var nodes = await Task.WhenAll(Endpoints().Select(ConnectAsync));
        var others = await Task.WhenAll(Endpoints().Select(ConnectAsync));
        try
        {
            var key = NewKey();
            var first = Pipeline(new RedlockStage(nodes), TimeSpan.FromSeconds(20));
            var second = Pipeline(new RedlockStage(others), TimeSpan.FromSeconds(20)); // like another process
            var inside = 0;
            var overlaps = 0;
            var fences = new List<long>();
            await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
            {
                for (var n = 0; n < 5; n++)
                {
                    await (i % 2 == 0 ? first : second).ExecuteAsync(key, async (ctx, _) =>
                    {
                        if (Interlocked.Increment(ref inside) != 1)
                        {
                            Interlocked.Increment(ref overlaps);
                        }

                        lock (fences)
                        {
                            fences.Add(ctx.FencingToken!.Value);
                        }

                        await Task.Delay(1, CancellationToken.None);
                        Interlocked.Decrement(ref inside);
                    }, cancellationToken: Ct);
                }
            })));

            Assert.Equal(0, overlaps);
            Assert.Equal(40, fences.Count);
            Assert.Equal(fences.Order(), fences);
            Assert.Equal(fences.Count, fences.Distinct().Count());
        }
        finally
        {
            foreach (var node in nodes.Concat(others))
            {
                await node.DisposeAsync();
            }
        }
    }

    // One and two Redlock nodes down: RedlockFaultTests.Acquire_OneNodeDownThenTwo_AcquiresThenUnavailable and
    // Acquire_NodesKnownDown_NotWaitedFor, on private nodes.

    private static string[] Endpoints() => Servers.RedlockEndpoints.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
