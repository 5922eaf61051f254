using DualLock.IntegrationTests.MySql;
using DualLock.MySql;
using DualLock.Redis;
using StackExchange.Redis;
using static DualLock.IntegrationTests.Redis.RedisTestKit;

namespace DualLock.IntegrationTests.Redis;

/// <summary>
/// The local hand-off passes on a lease only while Redis' last confirmation still covers it: never a lease
/// that ran out during a pause, never one the stage knows is lost, never one an inner fence refused.
/// "Another process" is a second stage instance (its own queue, contender id and connection use).
/// </summary>
public sealed class RedisHandoffSafetyTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    /// <summary>Long enough for a wrongly handed-off waiter to start (it needs no Redis call), far shorter than any bound.</summary>
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(1);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Handoff_HolderPausedPastItsLease_WaiterContendsInRedisInsteadOfTakingTheDeadLease()
    {
        var redis = await Servers.SharedRedisAsync();
        var time = new PausableTimeProvider();
        var options = new RedisLockOptions { Lease = TimeSpan.FromSeconds(1), RenewalInterval = TimeSpan.FromMilliseconds(300), OperationTimeout = TimeSpan.FromMilliseconds(200) };
        var stageA = new RedisLockStage(redis, options, time);
        var pipelineA = Pipeline(stageA, Bound);
        var pipelineB = Pipeline(redis, wait: Bound);
        var key = NewKey();
        var other = new Inside();

        await using var holder = await HoldAsync(pipelineA, key);
        var waiter = RunAsync(pipelineA, key, other);
        Assert.True(await EventuallyAsync(() => Task.FromResult(stageA.WaiterCount(key) == 1), Bound), "The waiter did not queue behind the holder.");

        time.Pause(); // no renewal from now on: Redis expires the lease while the holder still "holds"
        Assert.True(await EventuallyAsync(async () => !await redis.GetDatabase().KeyExistsAsync(LockName(key)), Bound), "The lease did not expire in Redis.");
        await using var elsewhere = await HoldAsync(pipelineB, key, other);

        await holder.ReleaseAsync();
        await Task.Delay(Window, Ct);
        Assert.False(waiter.Started.Task.IsCompleted, "The waiter was handed a lease that had ended in Redis while the other process held the key.");

        time.Resume();
        await elsewhere.ReleaseAsync();
        await waiter.Completion.WaitAsync(Bound, Ct);
        Assert.False(waiter.Overlapped, "The waiter ran while the other process held the key.");
    }

    [Fact]
    public async Task Handoff_KeyDeletedAndTakenElsewhere_NoWaiterTakesTheDeadLeaseOnceTheStageKnows()
    {
        var redis = await Servers.SharedRedisAsync();
        var options = new RedisLockOptions { Lease = TimeSpan.FromSeconds(2), RenewalInterval = TimeSpan.FromMilliseconds(300), OperationTimeout = TimeSpan.FromMilliseconds(200) };
        var stageA = new RedisLockStage(redis, options);
        var pipelineA = Pipeline(stageA, Bound);
        var pipelineB = Pipeline(redis, wait: Bound);
        var key = NewKey();
        var other = new Inside();

        var lost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holder = pipelineA.ExecuteAsync(key, async (_, ct) =>
        {
            // Holds until its stage finds the lease gone (the renewal), then ends its work.
            await Task.Delay(Timeout.InfiniteTimeSpan, ct).ContinueWith(_ => lost.TrySetResult(), TaskScheduler.Default);
        }, cancellationToken: Ct).AsTask();
        Assert.True(await EventuallyAsync(async () => await redis.GetDatabase().KeyExistsAsync(LockName(key)), Bound));
        var waiters = new[] { RunAsync(pipelineA, key, other), RunAsync(pipelineA, key, other) };
        Assert.True(await EventuallyAsync(() => Task.FromResult(stageA.WaiterCount(key) == 2), Bound), "The waiters did not queue behind the holder.");

        Assert.True(await redis.GetDatabase().KeyDeleteAsync(LockName(key))); // data loss: the key is gone
        await using var elsewhere = await HoldAsync(pipelineB, key, other);
        await lost.Task.WaitAsync(Bound, Ct);
        await Record.ExceptionAsync(() => holder.WaitAsync(Bound, Ct)); // how the pipeline reports the loss is not this test's concern

        await Task.Delay(Window, Ct);
        Assert.All(waiters, w => Assert.False(w.Started.Task.IsCompleted, "A waiter was handed the lease after the stage knew it was lost."));
        await elsewhere.ReleaseAsync();
        await Task.WhenAll(waiters.Select(w => w.Completion)).WaitAsync(Bound, Ct);
        Assert.All(waiters, w => Assert.False(w.Overlapped, "A waiter ran while the other process held the key."));
    }

    /// <summary>
    /// The fenced composition: the lock key is lost and another process takes it and writes. The first waiter,
    /// handed the lock before anything could know, is refused by the fence at BEGIN; that marks the Redis lease
    /// lost, so the next waiter acquires in Redis (a new, higher token) and succeeds, and the one after it too.
    /// </summary>
    [Fact]
    public async Task Handoff_FenceRefusesTheHandedOffHolder_LeaseLostAndTheNextWaitersAcquireAnew()
    {
        var redis = await Servers.SharedRedisAsync();
        await using var fence = await FenceTable.CreateAsync();
        // A hand-off period longer than the test: the loss is found by the fence, not by the period's keep round trip.
        var stageA = new RedisLockStage(redis, new RedisLockOptions { MaxHandoffTime = TimeSpan.FromSeconds(8) });
        var pipelineA = Fenced(stageA, fence.Name);
        var pipelineB = Fenced(new RedisLockStage(redis), fence.Name);
        var key = NewKey();

        // The first holder uses the same stage (the same local queue) without the transaction, so the other
        // process's fence write does not wait for its fence row: the order of the writes is the test's.
        await using var holder = await HoldAsync(Pipeline(stageA, Bound), key);
        var waiters = Enumerable.Range(0, 3).Select(_ => pipelineA.ExecuteAsync(key, (ctx, _) => ValueTask.FromResult(ctx.FencingToken!.Value), cancellationToken: Ct).AsTask()).ToArray();
        Assert.True(await EventuallyAsync(() => Task.FromResult(stageA.WaiterCount(key) == 3), Bound), "The waiters did not queue behind the holder.");

        // Data loss, then the other process takes the free key and writes under its (higher) token.
        Assert.True(await redis.GetDatabase().KeyDeleteAsync(LockName(key)));
        var written = await pipelineB.ExecuteAsync(key, (ctx, _) => ValueTask.FromResult(ctx.FencingToken!.Value), cancellationToken: Ct);
        await holder.ReleaseAsync();

        var refused = await Assert.ThrowsAsync<LockLeaseLostException>(() => waiters[0].WaitAsync(Bound, Ct));
        Assert.Contains("fencing token", refused.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(written, refused.NewerFencingToken);
        Assert.True(refused.RefusedFencingToken < written, $"The refused holder's token ({refused.RefusedFencingToken}) must be older than the stored one ({written}).");
        var second = await waiters[1].WaitAsync(Bound, Ct);
        var third = await waiters[2].WaitAsync(Bound, Ct);
        Assert.True(second > written, $"The second waiter must hold a newer lock than the other process's ({second} after {written}).");
        Assert.True(third > second, $"The third waiter must get a higher token than the second ({third} after {second}).");
        Assert.Equal(third, await fence.TokenAsync(key));
    }

    private static LockPipeline Fenced(RedisLockStage stage, string fenceTable)
        => new LockPipelineBuilder { Name = "fenced", WaitTimeout = Bound }
            .AddStage(stage)
            .AddMySqlTransaction(Servers.MySql, o =>
            {
                o.EnforceFencing = true;
                o.FenceTable = fenceTable;
            })
            .Build();

    private static async Task<Held> HoldAsync(LockPipeline pipeline, LockKey key, Inside? inside = null)
    {
        var held = new Held();
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        held.Completion = pipeline.ExecuteAsync(key, async (_, _) =>
        {
            inside?.Enter();
            running.SetResult();
            await held.Release.Task;
            inside?.Leave();
        }, cancellationToken: CancellationToken.None).AsTask();
        await Task.WhenAny(running.Task, held.Completion).WaitAsync(Bound);
        await (held.Completion.IsCompleted ? held.Completion : Task.CompletedTask);
        return held;
    }

    private static Waiter RunAsync(LockPipeline pipeline, LockKey key, Inside other)
    {
        var waiter = new Waiter();
        waiter.Completion = pipeline.ExecuteAsync(key, (_, _) =>
        {
            waiter.Overlapped |= other.IsInside;
            waiter.Started.TrySetResult();
            return ValueTask.CompletedTask;
        }, cancellationToken: CancellationToken.None).AsTask();
        return waiter;
    }

    /// <summary>Whether the other process's holder is inside its work now.</summary>
    private sealed class Inside
    {
        private int _count;

        public bool IsInside => Volatile.Read(ref _count) > 0;

        public void Enter() => Interlocked.Increment(ref _count);

        public void Leave() => Interlocked.Decrement(ref _count);
    }

    private sealed class Waiter
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Completion { get; set; } = Task.CompletedTask;

        public bool Overlapped { get; set; }
    }

    private sealed class Held : IAsyncDisposable
    {
        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Completion { get; set; } = Task.CompletedTask;

        public async Task ReleaseAsync()
        {
            Release.TrySetResult();
            await Completion.WaitAsync(Bound);
        }

        public async ValueTask DisposeAsync()
        {
            Release.TrySetResult();
            await Completion.WaitAsync(Bound).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }
}
