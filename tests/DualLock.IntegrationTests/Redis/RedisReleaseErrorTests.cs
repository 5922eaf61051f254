using DualLock.Redis;
using StackExchange.Redis;
using static DualLock.IntegrationTests.Redis.RedisTestKit;

namespace DualLock.IntegrationTests.Redis;

/// <summary>
/// A Redis error that is not an outage (-OOM, -NOREPLICAS) on release or keep must still pass the
/// key's local turn on; otherwise every later caller of this process waits for a turn that never comes.
/// </summary>
public sealed class RedisReleaseErrorTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // Short lease: the lock the failed release left behind ends quickly; the next caller waits for that, not for a turn.
    private static RedisLockOptions Options(int handoffs = 32) => new()
    {
        Lease = TimeSpan.FromSeconds(2),
        OperationTimeout = TimeSpan.FromMilliseconds(600),
        MaxConsecutiveHandoffs = handoffs,
    };

    private static RedisServerException Oom() => new("OOM command not allowed when used memory > 'maxmemory'.");

    [Fact]
    public async Task Release_ScriptAnswersOomWhileAnotherCallerQueues_QueuedCallerAcquires()
    {
        // The release script is answered -OOM only once the next local caller has queued behind the holder.
        var releaseSent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var answer = new TaskCompletionSource<RedisResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var redis = FaultInjectingRedis.Wrap(await Servers.SharedRedisAsync(), FaultInjectingRedis.Once(RedisLockScripts.Release, () =>
        {
            releaseSent.SetResult();
            return answer.Task;
        }));
        var stage = new RedisLockStage(redis, Options());
        var pipeline = Pipeline(stage, wait: TimeSpan.FromSeconds(5));
        var key = NewKey();

        var first = pipeline.ExecuteAsync(key, (_, _) => ValueTask.CompletedTask, cancellationToken: Ct).AsTask();
        await releaseSent.Task.WaitAsync(TimeSpan.FromSeconds(5), Ct);
        var next = pipeline.ExecuteAsync(key, (ctx, _) => ValueTask.FromResult(ctx.FencingToken), cancellationToken: Ct).AsTask();
        Assert.True(await EventuallyAsync(() => Task.FromResult(stage.WaiterCount(key) == 1), TimeSpan.FromSeconds(5)));
        answer.SetException(Oom());

        await first; // the work ran and returned: a lock that failed to release is logged, not the caller's failure
        Assert.True(await next > 0);
        Assert.True(await pipeline.ExecuteAsync(key, (ctx, _) => ValueTask.FromResult(ctx.FencingToken), cancellationToken: Ct) > 0);
    }

    [Fact]
    public async Task KeepUnlessWanted_ScriptAnswersOom_QueuedLocalWaiterAcquires()
    {
        // No hand-off allowed: a release with a waiter queued ends the period with the keep-unless-wanted script.
        var redis = FaultInjectingRedis.Wrap(await Servers.SharedRedisAsync(), FaultInjectingRedis.Once(RedisLockScripts.KeepUnlessWanted, Oom));
        var stage = new RedisLockStage(redis, Options(handoffs: 0));
        var pipeline = Pipeline(stage, wait: TimeSpan.FromSeconds(5));
        var key = NewKey();
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var holder = pipeline.ExecuteAsync(key, async (_, _) => { held.SetResult(); await release.Task; }, cancellationToken: Ct).AsTask();
        await held.Task;
        var waiter = pipeline.ExecuteAsync(key, (ctx, _) => ValueTask.FromResult(ctx.FencingToken), cancellationToken: Ct).AsTask();
        Assert.True(await EventuallyAsync(() => Task.Delay(300, Ct).ContinueWith(_ => true, TaskScheduler.Default), TimeSpan.FromSeconds(5)));
        release.SetResult();

        await holder.WaitAsync(TimeSpan.FromSeconds(10), Ct).ContinueWith(_ => { }, TaskScheduler.Default); // may surface the OOM or not
        var fence = await waiter.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.True(fence > 0);
    }
}
