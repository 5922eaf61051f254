using System.Diagnostics;
using DualLock.Tests.Pipeline;

namespace DualLock.Tests.Stages;

public sealed class InProcessLockStageTests
{
    [Fact]
    public async Task ExecuteAsync_ManyConcurrentTasksOnOneKey_NeverOverlap()
    {
        var pipeline = new LockPipelineBuilder { WaitTimeout = TimeSpan.FromSeconds(30) }.AddInProcessLock().Build();
        var key = new LockKey("account", "hot");
        var inside = 0;
        var maxInside = 0;
        long unprotectedCounter = 0;

        await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < 50; i++)
            {
                await pipeline.ExecuteAsync(key, async (_, _) =>
                {
                    var now = Interlocked.Increment(ref inside);
                    InterlockedMax(ref maxInside, now);

                    // A read-modify-write with a yield in the middle: loses updates unless serialised.
                    var read = unprotectedCounter;
                    await Task.Yield();
                    unprotectedCounter = read + 1;
                    Interlocked.Decrement(ref inside);
                });
            }
        })));

        Assert.Equal(1, maxInside);
        Assert.Equal(64 * 50, unprotectedCounter);
    }

    [Fact]
    public async Task ExecuteAsync_NoLockNegativeControl_LosesUpdates()
    {
        // The same workload as above without a lock: proves the test above can see a loss.
        var pipeline = new LockPipelineBuilder().AddNoLock().Build();
        var key = new LockKey("account", "hot");
        long counter = 0;

        // Deterministic, not left to the scheduler (a Task.Yield between read and write lost nothing once, on a CI
        // machine): the first work waits after its read until a second work has read too, which only a missing
        // lock lets in. Both then write the same value.
        var readers = 0;
        var secondRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < 50; i++)
            {
                await pipeline.ExecuteAsync(key, async (_, ct) =>
                {
                    var read = Interlocked.Read(ref counter);
                    if (Interlocked.Increment(ref readers) == 2)
                    {
                        secondRead.TrySetResult();
                    }

                    await secondRead.Task.WaitAsync(TimeSpan.FromSeconds(10), ct);
                    Interlocked.Exchange(ref counter, read + 1);
                });
            }
        })));

        Assert.True(counter < 64 * 50, $"expected lost updates without a lock, got {counter}");
    }

    [Fact]
    public async Task ExecuteAsync_HeldLongerThanWait_WaiterTimesOutWithTimeoutException()
    {
        var pipeline = new LockPipelineBuilder { WaitTimeout = TimeSpan.FromMilliseconds(100) }.AddInProcessLock().Build();
        var key = new LockKey("account", "1");
        var holder = await HeldLock.TakeAsync(pipeline, key, TimeSpan.FromSeconds(5));

        var watch = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<LockTimeoutException>(async () =>
            await pipeline.ExecuteAsync(key, (_, _) => ValueTask.CompletedTask));
        watch.Stop();

        await holder.ReleaseAsync();
        Assert.Equal("in-process", ex.Stage);
        Assert.Equal(TimeSpan.FromMilliseconds(100), ex.WaitTimeout);
        Assert.True(ex.Elapsed >= TimeSpan.FromMilliseconds(90), $"gave up after {ex.Elapsed}");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), "the wait must end at its timeout, not when the holder releases");
    }

    [Fact]
    public async Task ExecuteAsync_CancelledWhileWaiting_ThrowsOperationCanceledAndKeyIsForgotten()
    {
        var stage = new InProcessLockStage();
        var pipeline = new LockPipelineBuilder { WaitTimeout = TimeSpan.FromSeconds(30) }.AddStage(stage).Build();
        var key = new LockKey("account", "1");
        var holder = await HeldLock.TakeAsync(pipeline, key);

        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            await pipeline.ExecuteAsync(key, (_, _) => ValueTask.CompletedTask, cancellationToken: cts.Token));

        await holder.ReleaseAsync();
        Assert.Equal(0, stage.ActiveKeyCount);
    }

    [Fact]
    public async Task ExecuteAsync_ZeroWait_TriesOnceAndTimesOutImmediately()
    {
        var pipeline = new LockPipelineBuilder().AddInProcessLock().Build();
        var key = new LockKey("account", "1");
        var holder = await HeldLock.TakeAsync(pipeline, key);

        var acquired = await pipeline.TryExecuteAsync(key, (_, _) => ValueTask.CompletedTask, TimeSpan.Zero);

        await holder.ReleaseAsync();
        Assert.False(acquired);
    }

    [Fact]
    public async Task ExecuteAsync_WaitersQueued_AreServedInArrivalOrder()
    {
        var pipeline = new LockPipelineBuilder { WaitTimeout = TimeSpan.FromSeconds(30) }.AddInProcessLock().Build();
        var key = new LockKey("account", "1");
        var order = new List<int>();
        var holder = await HeldLock.TakeAsync(pipeline, key);

        var waiters = new List<Task>();
        for (var i = 0; i < 20; i++)
        {
            var id = i;
            waiters.Add(pipeline.ExecuteAsync(key, (_, _) =>
            {
                order.Add(id);
                return ValueTask.CompletedTask;
            }).AsTask());
        }

        await holder.ReleaseAsync();
        await Task.WhenAll(waiters);
        Assert.Equal(Enumerable.Range(0, 20), order);
    }

    [Fact]
    public async Task ExecuteAsync_QueueFull_RejectsAtOnceWithTimeout()
    {
        var pipeline = new LockPipelineBuilder { WaitTimeout = TimeSpan.FromSeconds(30) }
            .AddInProcessLock(new InProcessLockOptions { MaxQueueLength = 2 }).Build();
        var key = new LockKey("account", "1");
        var holder = await HeldLock.TakeAsync(pipeline, key);
        var queued = pipeline.ExecuteAsync(key, (_, _) => ValueTask.CompletedTask).AsTask();

        var watch = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<LockTimeoutException>(async () => await pipeline.ExecuteAsync(key, (_, _) => ValueTask.CompletedTask));

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), "a full queue must refuse without waiting for the 30 s wait");
        await holder.ReleaseAsync();
        await queued;
        Assert.Equal("in-process", ex.Stage);
    }

    [Fact]
    public async Task ExecuteAsync_100kDistinctKeys_LeaveNoPerKeyStateBehind()
    {
        var stage = new InProcessLockStage();
        var pipeline = new LockPipelineBuilder().AddStage(stage).Build();
        var peak = 0;

        await Parallel.ForAsync(0, 100_000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
            await pipeline.ExecuteAsync(new LockKey("account", i.ToString(System.Globalization.CultureInfo.InvariantCulture)), (_, _) =>
            {
                InterlockedMax(ref peak, stage.ActiveKeyCount);
                return ValueTask.CompletedTask;
            }, cancellationToken: ct));

        Assert.True(peak >= 1, "the stage must have tracked keys while they were held");
        Assert.Equal(0, stage.ActiveKeyCount);
    }

    [Theory]
    [InlineData("", 1, "InProcessLockOptions.Name must not be empty (was '').")]
    [InlineData("in-process", 0, "InProcessLockOptions.MaxQueueLength must be at least 1 (was 0).")]
    public void AddInProcessLock_InvalidOptions_ThrowsWithPreciseMessage(string name, int maxQueue, string message)
    {
        var ex = Assert.Throws<ArgumentException>(() => new LockPipelineBuilder().AddInProcessLock(new InProcessLockOptions { Name = name, MaxQueueLength = maxQueue }));
        Assert.Contains("- " + message, ex.Message, StringComparison.Ordinal);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
