using System.Diagnostics;
using System.Runtime.CompilerServices;
using DualLock.Redis;
using StackExchange.Redis;
using static DualLock.IntegrationTests.Redis.RedisTestKit;

namespace DualLock.IntegrationTests.Redis;

/// <summary>Stops and restarts the Redlock nodes (never the shared main Redis); one test at a time.</summary>
[Collection(nameof(RedisNodeOutageTests))]
[CollectionDefinition(nameof(RedisNodeOutageTests), DisableParallelization = true)]
public sealed class RedisNodeOutageTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RedisLock_ServerStoppedThenRestarted_UnavailableWithinBoundThenWorksAgain()
    {
        var port = Endpoints()[2];
        await using var redis = await ConnectAsync(port);
        var pipeline = Pipeline(redis, new RedisLockOptions { OperationTimeout = TimeSpan.FromMilliseconds(500) }, wait: TimeSpan.FromSeconds(30));
        await pipeline.ExecuteAsync(NewKey(), (_, _) => ValueTask.CompletedTask, Ct);

        try
        {
            await Services("stop-redis-node", port);
            var clock = Stopwatch.StartNew();
            await Assert.ThrowsAsync<LockUnavailableException>(async () => await pipeline.ExecuteAsync(NewKey(), (_, _) => ValueTask.CompletedTask, Ct));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
        }
        finally
        {
            await Services("start-redis-node", port);
        }

        Assert.True(await EventuallyAsync(() => Task.FromResult(redis.IsConnected), TimeSpan.FromSeconds(15)));

        // The stage learns the outage is over from its probe (every OutageProbeInterval): within a bound, not at once.
        long? fence = null;
        Assert.True(await EventuallyAsync(
            async () =>
            {
                try
                {
                    fence = await pipeline.ExecuteAsync(NewKey(), (ctx, _) => ValueTask.FromResult(ctx.FencingToken), Ct);
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
        var port = Endpoints()[2];
        await using var redis = await ConnectAsync(port);
        var pipeline = Pipeline(redis, new RedisLockOptions { OperationTimeout = TimeSpan.FromMilliseconds(500) }, wait: TimeSpan.FromSeconds(2));
        await pipeline.ExecuteAsync(NewKey(), (_, _) => ValueTask.CompletedTask, Ct);
        var key = NewKey();

        Exception?[] outcomes;
        try
        {
            await Services("stop-redis-node", port);
            outcomes = await Task.WhenAll(Enumerable.Range(0, 10).Select(async _ =>
            {
                try
                {
                    await pipeline.ExecuteAsync(key, (_, _) => ValueTask.CompletedTask, Ct);
                    return null;
                }
                catch (Exception ex)
                {
                    return ex;
                }
            }));
        }
        finally
        {
            await Services("start-redis-node", port);
        }

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
                    }, Ct);
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

    [Fact]
    public async Task Redlock_OneNodeDown_StillAcquires_TwoDown_Unavailable()
    {
        var ports = Endpoints();
        var nodes = await Task.WhenAll(ports.Select(ConnectAsync));
        var pipeline = Pipeline(new RedlockStage(nodes, new RedlockOptions { OperationTimeout = TimeSpan.FromMilliseconds(300) }), TimeSpan.FromSeconds(20));
        try
        {
            await Services("stop-redis-node", ports[2]);
            var fence = await pipeline.ExecuteAsync(NewKey(), (ctx, _) => ValueTask.FromResult(ctx.FencingToken), Ct);
            Assert.True(fence > 0);

            await Services("stop-redis-node", ports[1]);
            var clock = Stopwatch.StartNew();
            await Assert.ThrowsAsync<LockUnavailableException>(async () => await pipeline.ExecuteAsync(NewKey(), (_, _) => ValueTask.CompletedTask, Ct));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
        }
        finally
        {
            await Services("start-redis-node", ports[1]);
            await Services("start-redis-node", ports[2]);
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    /// <summary>Finds scripts/services.sh above the test output, the working directory or this source file (builds may put the output outside the repository).</summary>
    private static string ServicesScript([CallerFilePath] string sourceFile = "")
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory, Path.GetDirectoryName(sourceFile) ?? "" })
        {
            for (var dir = start; !string.IsNullOrEmpty(dir); dir = Path.GetDirectoryName(dir))
            {
                var script = Path.Combine(dir, "scripts", "services.sh");
                if (File.Exists(script))
                {
                    return script;
                }
            }
        }

        throw new InvalidOperationException("scripts/services.sh not found above the test output, the working directory or the test source.");
    }

    private static string[] Endpoints() => Servers.RedlockEndpoints.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static async Task Services(string command, string endpoint)
    {
        var port = endpoint[(endpoint.LastIndexOf(':') + 1)..];
        using var process = Process.Start(new ProcessStartInfo(ServicesScript(), [command, port]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync(CancellationToken.None);
        Assert.True(process.ExitCode == 0, $"services.sh {command} {port} failed: {await output} {await error}");
    }
}
