using System.Diagnostics;
using DualLock.Redis;
using StackExchange.Redis;
using static DualLock.IntegrationTests.Redis.RedisTestKit;

namespace DualLock.IntegrationTests.Redis;

/// <summary>
/// Once the stage knows Redis is down (a call failed or timed out, or the connection reports the
/// server gone), acquires fail as unavailable at once instead of each waiting the operation timeout;
/// one probe at a time finds the end of the outage. Each test runs its own redis-server and kills or
/// pauses it; the shared servers are never touched.
/// </summary>
[Collection(nameof(RedisOutageFailFastTests))]
[CollectionDefinition(nameof(RedisOutageFailFastTests), DisableParallelization = true)]
public sealed class RedisOutageFailFastTests
{
    private static readonly TimeSpan OperationTimeout = TimeSpan.FromSeconds(1);

    // A behaviour bound, not a benchmark: an acquire that made a Redis call would take the operation timeout (1 s).
    private static readonly TimeSpan AtOnce = TimeSpan.FromMilliseconds(200);

    public enum Fault
    {
        /// <summary>SIGKILL: the connection drops.</summary>
        Kill,

        /// <summary>SIGSTOP: the connection stays up and nothing answers.</summary>
        Pause,
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(Fault.Kill)]
    [InlineData(Fault.Pause)]
    public async Task Acquire_OutageKnown_FailsUnavailableWithoutWaitingOperationTimeout(Fault fault)
    {
        await using var server = await PrivateRedisServer.StartAsync();
        await using var redis = await ConnectAsync(server.Endpoint);
        var pipeline = Pipeline(redis, new RedisLockOptions { OperationTimeout = OperationTimeout }, wait: TimeSpan.FromSeconds(30));
        var sameKey = NewKey();
        await pipeline.ExecuteAsync(sameKey, (_, _) => ValueTask.CompletedTask, cancellationToken: Ct);

        await BeginAsync(server, fault);
        await MakeOutageKnownAsync(pipeline);

        var slowest = TimeSpan.Zero;
        for (var i = 0; i < 20; i++)
        {
            var clock = Stopwatch.StartNew();
            await Assert.ThrowsAsync<LockUnavailableException>(async () =>
                await pipeline.ExecuteAsync(i % 2 == 0 ? sameKey : NewKey(), (_, _) => ValueTask.CompletedTask, cancellationToken: Ct));
            Assert.True(clock.Elapsed < AtOnce, $"acquire {i} failed after {clock.ElapsedMilliseconds} ms (operation timeout {OperationTimeout.TotalMilliseconds} ms)");
            slowest = clock.Elapsed > slowest ? clock.Elapsed : slowest;
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"{fault}: slowest of 20 fail-fast acquires {slowest.TotalMilliseconds:0.00} ms");
    }

    [Theory]
    [InlineData(Fault.Kill)]
    [InlineData(Fault.Pause)]
    public async Task Acquire_OutageKnown_KeyHeldInThisProcess_FailsAtOnceInsteadOfQueueingBehindTheHolder(Fault fault)
    {
        // A holder from before the outage still runs its work. A new caller of the same key used to join the
        // key's local queue behind it and wait there (up to its whole wait) before learning of the outage.
        await using var server = await PrivateRedisServer.StartAsync();
        await using var redis = await ConnectAsync(server.Endpoint);
        var pipeline = Pipeline(redis, new RedisLockOptions { OperationTimeout = OperationTimeout }, wait: TimeSpan.FromSeconds(30));
        var key = NewKey();
        var holding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var finish = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holder = Task.Run(async () =>
        {
            try
            {
                await pipeline.ExecuteAsync(key, async (_, _) => { holding.SetResult(); await finish.Task; }, cancellationToken: Ct);
            }
            catch (LockException)
            {
                // the holder's lease may be reported lost once Redis is gone: not what this test looks at
            }
        }, Ct);
        await holding.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);

        await BeginAsync(server, fault);
        await MakeOutageKnownAsync(pipeline);

        var clock = Stopwatch.StartNew();
        var error = await Record.ExceptionAsync(async () => await pipeline.ExecuteAsync(key, (_, _) => ValueTask.CompletedTask, cancellationToken: Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Ct));
        var elapsed = clock.Elapsed;
        finish.SetResult();
        await holder.WaitAsync(TimeSpan.FromSeconds(30), Ct);

        Assert.IsType<LockUnavailableException>(error);
        Assert.True(elapsed < AtOnce, $"the caller failed after {elapsed.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task Hang_AcquireTheClientGaveUpOn_IsReleasedWhenRedisAnswersAgain()
    {
        // A hung Redis still has the acquire in its socket buffer. The client gives up on it (its own async
        // timeout fires before the server resumes), then the server wakes and runs it: the key is locked by a
        // token nobody holds. Without cleanup every caller of that key times out until the lease ends.
        await using var server = await PrivateRedisServer.StartAsync();
        await using var redis = await ConnectAsync(server.Endpoint + ",asyncTimeout=800");
        await using var observer = await ConnectAsync(server.Endpoint);
        var options = new RedisLockOptions { OperationTimeout = TimeSpan.FromMilliseconds(300), Lease = TimeSpan.FromSeconds(30), OutageProbeInterval = TimeSpan.FromMilliseconds(100) };
        var pipeline = Pipeline(redis, options, wait: TimeSpan.FromMilliseconds(500));
        await pipeline.ExecuteAsync(NewKey(), (_, _) => ValueTask.CompletedTask, cancellationToken: Ct); // scripts loaded, connection warm
        var key = NewKey();

        server.Pause();
        await Assert.ThrowsAsync<LockUnavailableException>(async () => await pipeline.ExecuteAsync(key, (_, _) => ValueTask.CompletedTask, cancellationToken: Ct));
        await Task.Delay(TimeSpan.FromSeconds(2), Ct); // past the client's own 800 ms timeout: the acquire's task has failed
        server.Resume();

        Assert.True(
            await EventuallyAsync(async () => !await observer.GetDatabase().KeyExistsAsync(LockName(key)), TimeSpan.FromSeconds(5)),
            "the acquire the client gave up on ran when Redis resumed and still holds the key (it would until its 30 s lease ends)");
        await Pipeline(redis, options, wait: TimeSpan.FromSeconds(5)).ExecuteAsync(key, (_, _) => ValueTask.CompletedTask, cancellationToken: Ct);
    }

    [Fact]
    public async Task Acquire_FirstCallsOfAnOutage_QueuedLocalWaitersFailAsUnavailableNotTimeout()
    {
        // Redis hangs while ten callers want one key: one attempt times out, and all ten learn "unavailable"
        // (a dual pipeline then falls back) instead of waiting their turns until their wait ends as a timeout.
        await using var server = await PrivateRedisServer.StartAsync();
        await using var redis = await ConnectAsync(server.Endpoint);
        var pipeline = Pipeline(redis, new RedisLockOptions { OperationTimeout = TimeSpan.FromMilliseconds(500) }, wait: TimeSpan.FromSeconds(2));
        await pipeline.ExecuteAsync(NewKey(), (_, _) => ValueTask.CompletedTask, cancellationToken: Ct);
        var key = NewKey();
        server.Pause();

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

    [Theory]
    [InlineData(Fault.Kill)]
    [InlineData(Fault.Pause)]
    public async Task Acquire_OutageKnown_QueuedLocalWaitersAllFailAtOnce(Fault fault)
    {
        await using var server = await PrivateRedisServer.StartAsync();
        await using var redis = await ConnectAsync(server.Endpoint);
        var pipeline = Pipeline(redis, new RedisLockOptions { OperationTimeout = OperationTimeout }, wait: TimeSpan.FromSeconds(30));
        await pipeline.ExecuteAsync(NewKey(), (_, _) => ValueTask.CompletedTask, cancellationToken: Ct);
        await BeginAsync(server, fault);
        await MakeOutageKnownAsync(pipeline);

        var key = NewKey();
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Task.Run(async () =>
        {
            var clock = Stopwatch.StartNew();
            try
            {
                await pipeline.ExecuteAsync(key, (_, _) => ValueTask.CompletedTask, cancellationToken: Ct);
                return (Error: (Exception?)null, clock.Elapsed);
            }
            catch (Exception ex)
            {
                return (Error: ex, clock.Elapsed);
            }
        }, Ct)));

        Assert.All(outcomes, o =>
        {
            Assert.IsType<LockUnavailableException>(o.Error);
            Assert.True(o.Elapsed < AtOnce, $"a caller failed after {o.Elapsed.TotalMilliseconds:0} ms");
        });
    }

    [Theory]
    [InlineData(Fault.Kill)]
    [InlineData(Fault.Pause)]
    public async Task Acquire_OutageEnds_SucceedsAgainWithinBound(Fault fault)
    {
        await using var server = await PrivateRedisServer.StartAsync();
        await using var redis = await ConnectAsync(server.Endpoint);
        var options = new RedisLockOptions { OperationTimeout = OperationTimeout, OutageProbeInterval = TimeSpan.FromMilliseconds(100) };
        var pipeline = Pipeline(redis, options, wait: TimeSpan.FromSeconds(2));
        await pipeline.ExecuteAsync(NewKey(), (_, _) => ValueTask.CompletedTask, cancellationToken: Ct);
        await BeginAsync(server, fault);
        await MakeOutageKnownAsync(pipeline);

        if (fault == Fault.Kill)
        {
            await server.RestartAsync();
        }
        else
        {
            server.Resume();
        }

        // Killed: the client reconnects first (its own retry, about a second); paused: the connection never dropped.
        var clock = Stopwatch.StartNew();
        var bound = fault == Fault.Kill ? TimeSpan.FromSeconds(15) : OperationTimeout + TimeSpan.FromSeconds(2);
        var recovered = await EventuallyAsync(
            async () =>
            {
                try
                {
                    return await pipeline.ExecuteAsync(NewKey(), (ctx, _) => ValueTask.FromResult(ctx.FencingToken > 0), cancellationToken: Ct);
                }
                catch (LockUnavailableException)
                {
                    return false;
                }
            },
            bound);
        Assert.True(recovered, $"still unavailable {clock.Elapsed.TotalMilliseconds:0} ms after the fault ended");
    }

    [Fact]
    public async Task Acquire_RedisPausedWaitShorterThanOperationTimeout_TimesOutWithinTheWait()
    {
        await using var server = await PrivateRedisServer.StartAsync();
        await using var redis = await ConnectAsync(server.Endpoint);
        await using var other = await ConnectAsync(server.Endpoint);
        var options = new RedisLockOptions { OperationTimeout = OperationTimeout };
        var holder = Pipeline(other, options, wait: TimeSpan.FromSeconds(5));
        var pipeline = Pipeline(redis, options, wait: TimeSpan.FromSeconds(5));
        var key = NewKey();
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holding = holder.ExecuteAsync(key, async (_, _) => { held.SetResult(); await release.Task; }, cancellationToken: Ct).AsTask();
        await held.Task;

        server.Pause();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                // Cut short by the 50 ms wait, the attempt is a timeout (the lock may be held), not an outage:
                // it must not make the next caller fail at once as unavailable either.
                var clock = Stopwatch.StartNew();
                await Assert.ThrowsAsync<LockTimeoutException>(async () =>
                    await pipeline.ExecuteAsync(key, (_, _) => ValueTask.CompletedTask, TimeSpan.FromMilliseconds(50), Ct));
                Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(500), $"attempt {i} returned after {clock.ElapsedMilliseconds} ms, not within the 50 ms wait");
            }
        }
        finally
        {
            server.Resume();
            release.TrySetResult();
        }

        await holding;
    }

    [Fact]
    public async Task Acquire_CutShortByTheWaitThenAnsweredLate_LateLockIsReleased()
    {
        await using var server = await PrivateRedisServer.StartAsync();
        await using var redis = await ConnectAsync(server.Endpoint);
        var pipeline = Pipeline(redis, new RedisLockOptions { OperationTimeout = OperationTimeout }, wait: TimeSpan.FromSeconds(5));
        var key = NewKey();
        await pipeline.ExecuteAsync(NewKey(), (_, _) => ValueTask.CompletedTask, cancellationToken: Ct);

        server.Pause();
        try
        {
            await Assert.ThrowsAsync<LockTimeoutException>(async () =>
                await pipeline.ExecuteAsync(key, (_, _) => ValueTask.CompletedTask, TimeSpan.FromMilliseconds(50), Ct));
        }
        finally
        {
            server.Resume();
        }

        // The abandoned acquire ran when Redis resumed (its fence counter exists) and was undone (no lock left for a whole lease).
        var db = redis.GetDatabase();
        Assert.True(await EventuallyAsync(async () => await db.KeyExistsAsync($"duallock:{{{key}}}:fence") && !await db.KeyExistsAsync(LockName(key)), TimeSpan.FromSeconds(3)));
        Assert.Equal(42, await pipeline.ExecuteAsync(key, (_, _) => ValueTask.FromResult(42), TimeSpan.FromMilliseconds(200), Ct));
    }

    private static async Task BeginAsync(PrivateRedisServer server, Fault fault)
    {
        if (fault == Fault.Kill)
        {
            await server.StopAsync();
        }
        else
        {
            server.Pause();
        }
    }

    /// <summary>The first acquire in an outage may wait one bounded attempt; it must fail as unavailable.</summary>
    private static async Task MakeOutageKnownAsync(LockPipeline pipeline)
    {
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAsync<LockUnavailableException>(async () => await pipeline.ExecuteAsync(NewKey(), (_, _) => ValueTask.CompletedTask, cancellationToken: Ct));
        Assert.True(clock.Elapsed < OperationTimeout * 3, $"the first acquire in the outage took {clock.Elapsed}");
    }
}
