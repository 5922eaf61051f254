using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using DualLock.Redis;
using DualLock.TestWorker;
using StackExchange.Redis;
using static DualLock.IntegrationTests.Redis.RedisTestKit;

namespace DualLock.IntegrationTests.Redis;

public sealed class RedisLockContentionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ExecuteAsync_64TasksAcrossTwoProcesses_NeverOverlapAndFencingIncreases()
    {
        var redis = await Servers.SharedRedisAsync();
        var key = NewKey();
        var startAt = DateTimeOffset.UtcNow.AddSeconds(2).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        await using var worker = WorkerProcess.Start("redis-contend", key.Resource, key.Id, "32", "10", "1", startAt, "0");
        var pipeline = Pipeline(redis, wait: TimeSpan.FromSeconds(30));
        await Task.Delay(DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(startAt, CultureInfo.InvariantCulture)) - DateTimeOffset.UtcNow, Ct);

        var local = await ContentionProbe.RunAsync(pipeline, redis.GetDatabase(), key, 32, 10, TimeSpan.FromMilliseconds(1), TimeSpan.Zero, Ct);
        var remote = await worker.ResultAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(320, local.Acquired);
        Assert.Equal(320, remote.GetProperty("acquired").GetInt64());
        Assert.Equal(0, local.Overlaps + remote.GetProperty("overlaps").GetInt64());
        Assert.Equal(0, local.FenceViolations + remote.GetProperty("fenceViolations").GetInt64());
    }

    [Fact]
    public async Task ExecuteAsync_TwoProcessesOnOneKey_BothGetAtLeastAQuarter()
    {
        var redis = await Servers.SharedRedisAsync();
        var key = NewKey();
        var startAt = DateTimeOffset.UtcNow.AddSeconds(2).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        await using var worker = WorkerProcess.Start("redis-contend", key.Resource, key.Id, "8", "100000", "1", startAt, "3000");
        var pipeline = Pipeline(redis, wait: TimeSpan.FromSeconds(30));
        await Task.Delay(DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(startAt, CultureInfo.InvariantCulture)) - DateTimeOffset.UtcNow, Ct);

        var local = await ContentionProbe.RunAsync(pipeline, redis.GetDatabase(), key, 8, 100000, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(3), Ct);
        var remote = (await worker.ResultAsync(TimeSpan.FromSeconds(60))).GetProperty("acquired").GetInt64();

        var total = local.Acquired + remote;
        Assert.True(local.Acquired * 4 >= total && remote * 4 >= total, $"this process {local.Acquired}, the other {remote}");
        Assert.Equal(0, local.Overlaps);
    }

    [Fact]
    public async Task ExecuteAsync_10kAcquiresOver100Keys_NeverOverlap()
    {
        var redis = await Servers.SharedRedisAsync();
        var pipeline = Pipeline(redis, wait: TimeSpan.FromSeconds(30));
        var prefix = Guid.NewGuid().ToString("N");
        var inside = new int[100];
        long overlaps = 0, done = 0;

        await Parallel.ForEachAsync(Enumerable.Range(0, 10_000), new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = Ct }, async (i, ct) =>
        {
            var k = i % 100;
            await pipeline.ExecuteAsync(new LockKey("test", $"{prefix}-{k}"), async (_, _) =>
            {
                if (Interlocked.Increment(ref inside[k]) != 1)
                {
                    Interlocked.Increment(ref overlaps);
                }

                await Task.Yield();
                Interlocked.Decrement(ref inside[k]);
                Interlocked.Increment(ref done);
            }, cancellationToken: ct);
        });

        Assert.Equal(10_000, done);
        Assert.Equal(0, overlaps);
    }

    [Fact]
    public async Task Waiter_HolderInAnotherProcessReleases_AcquiresOnTheReleaseMessageNotAPoll()
    {
        var redis = await Servers.SharedRedisAsync();
        await using var other = await ConnectAsync(Servers.Redis); // the holder: its own connection and stage, like another process
        var key = NewKey();
        var options = new RedisLockOptions { RecheckInterval = TimeSpan.FromSeconds(2) }; // a poll would take seconds
        var holder = Pipeline(other, options);
        var waiter = Pipeline(redis, options);
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var clock = Stopwatch.StartNew();
        long releasedAt = 0;

        var holding = holder.ExecuteAsync(key, async (_, _) =>
        {
            held.SetResult();
            await Task.Delay(50, CancellationToken.None);
            Volatile.Write(ref releasedAt, clock.ElapsedTicks);
        }, cancellationToken: Ct).AsTask();
        await held.Task;
        var acquiredAt = await waiter.ExecuteAsync(key, (_, _) => ValueTask.FromResult(clock.ElapsedTicks), cancellationToken: Ct);
        await holding;

        Assert.True(acquiredAt > Volatile.Read(ref releasedAt));
        var latency = TimeSpan.FromTicks((acquiredAt - releasedAt) * TimeSpan.TicksPerSecond / Stopwatch.Frequency);
        Assert.True(latency < TimeSpan.FromMilliseconds(500), $"woke {latency.TotalMilliseconds} ms after the release");
    }

    [Fact]
    public async Task LocalWaiters_QueuedInOrder_AreServedInArrivalOrder()
    {
        var redis = await Servers.SharedRedisAsync();
        var key = NewKey();
        var pipeline = Pipeline(redis);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var order = new ConcurrentQueue<int>();

        var holder = pipeline.ExecuteAsync(key, async (_, _) => { held.SetResult(); await release.Task; }, cancellationToken: Ct).AsTask();
        await held.Task;
        var waiters = new List<Task>();
        for (var i = 0; i < 10; i++)
        {
            var n = i;
            waiters.Add(pipeline.ExecuteAsync(key, (_, _) => { order.Enqueue(n); return ValueTask.CompletedTask; }, cancellationToken: Ct).AsTask());
            await Task.Delay(20, Ct); // arrival order
        }

        release.SetResult();
        await Task.WhenAll(waiters.Append(holder));
        Assert.Equal(Enumerable.Range(0, 10), order);
    }

    [Fact]
    public async Task HandoffPeriodEnds_NoOtherProcessWaits_LockIsKeptNotReacquired()
    {
        // With one hand-off per period, every second holder ends a period. Nobody else reserved the
        // next turn, so the lock is kept in Redis (the same lock value) instead of being released and
        // re-acquired; each holder still gets a higher token, and waiters are served in arrival order.
        var redis = await Servers.SharedRedisAsync();
        var key = NewKey();
        var pipeline = Pipeline(redis, new RedisLockOptions { MaxConsecutiveHandoffs = 1 });
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var seen = new ConcurrentQueue<(int Order, long? Token, string? Value)>();
        var db = redis.GetDatabase();

        var holder = pipeline.ExecuteAsync(key, async (ctx, _) => { seen.Enqueue((-1, ctx.FencingToken, await db.StringGetAsync(LockName(key)))); held.SetResult(); await release.Task; }, cancellationToken: Ct).AsTask();
        await held.Task;
        var waiters = new List<Task>();
        for (var i = 0; i < 10; i++)
        {
            var n = i;
            waiters.Add(pipeline.ExecuteAsync(key, async (ctx, _) => seen.Enqueue((n, ctx.FencingToken, await db.StringGetAsync(LockName(key)))), cancellationToken: Ct).AsTask());
            await Task.Delay(10, Ct);
        }

        release.SetResult();
        await Task.WhenAll(waiters.Append(holder));
        Assert.Equal(Enumerable.Range(-1, 11), seen.Select(s => s.Order));
        Assert.Single(seen.Select(s => s.Value).Distinct());
        var tokens = seen.Select(s => s.Token!.Value).ToArray();
        Assert.Equal(tokens.Order(), tokens);
        Assert.Equal(tokens.Length, tokens.Distinct().Count());
    }

    [Fact]
    public async Task LocalWaiters_BeyondBound_AreRefusedAtOnce()
    {
        var redis = await Servers.SharedRedisAsync();
        var key = NewKey();
        var pipeline = Pipeline(redis, new RedisLockOptions { MaxQueueLength = 3 });
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var holder = pipeline.ExecuteAsync(key, async (_, _) => { held.SetResult(); await release.Task; }, cancellationToken: Ct).AsTask();
        await held.Task;
        var queued = new[]
        {
            pipeline.ExecuteAsync(key, (_, _) => ValueTask.CompletedTask, cancellationToken: Ct).AsTask(),
            pipeline.ExecuteAsync(key, (_, _) => ValueTask.CompletedTask, cancellationToken: Ct).AsTask(),
        };
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAsync<LockTimeoutException>(async () => await pipeline.ExecuteAsync(key, (_, _) => ValueTask.CompletedTask, cancellationToken: Ct));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"refused after {clock.Elapsed}");

        release.SetResult();
        await Task.WhenAll(queued.Append(holder));
    }

    [Fact]
    public async Task Stage_AfterContention_KeepsNoKeyStateOrSubscription()
    {
        var redis = await Servers.SharedRedisAsync();
        var key = NewKey();
        var stage = new RedisLockStage(redis);
        var pipeline = Pipeline(stage);
        await using var other = await ConnectAsync(Servers.Redis);
        var holder = Pipeline(other);

        // A holder elsewhere makes the local callers wait (and subscribe).
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holding = holder.ExecuteAsync(key, async (_, _) => { held.SetResult(); await Task.Delay(100, CancellationToken.None); }, cancellationToken: Ct).AsTask();
        await held.Task;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => pipeline.ExecuteAsync(key, (_, _) => ValueTask.CompletedTask, cancellationToken: Ct).AsTask()));
        await holding;

        Assert.Equal(0, stage.ActiveKeyCount);
        var channel = RedisChannel.Literal($"duallock:{{{key}}}:released");
        Assert.True(await EventuallyAsync(
            async () => await SubscriberCountAsync(redis, channel) == 0,
            TimeSpan.FromSeconds(3)));
        Assert.False(await redis.GetDatabase().KeyExistsAsync(LockName(key)));
    }

    private static async Task<long> SubscriberCountAsync(ConnectionMultiplexer redis, RedisChannel channel)
    {
        var result = (RedisResult[])(await redis.GetDatabase().ExecuteAsync("PUBSUB", "NUMSUB", channel.ToString()))!;
        return (long)result[1];
    }
}
