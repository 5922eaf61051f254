using DualLock.Tests.Pipeline;
using Microsoft.Extensions.Time.Testing;

namespace DualLock.Tests.Combining;

public sealed class LockCombinerTests
{
    private static readonly LockKey Key = new("account", "hot");

    private static LockPipeline InProcess(TimeSpan? waitTimeout = null, TimeProvider? time = null)
        => new LockPipelineBuilder { WaitTimeout = waitTimeout ?? TimeSpan.FromSeconds(30), TimeProvider = time ?? TimeProvider.System }.AddInProcessLock().Build();

    [Fact]
    public async Task ExecuteAsync_AloneOnKey_RunsDirectlyInABatchOfOne()
    {
        var harness = new CombinerHarness(InProcess());

        var result = await harness.Combiner.ExecuteAsync(Key, "a", TestContext.Current.CancellationToken);

        Assert.Equal("A", result);
        Assert.Equal([["a"]], harness.Batches);
        Assert.Equal(0, harness.Combiner.KeyCount);
    }

    [Fact]
    public async Task ExecuteAsync_CallersQueuedBehindLeader_RunInOneBatchInArrivalOrderWithOwnResults()
    {
        var harness = new CombinerHarness(InProcess());
        var entered = harness.BlockAsync("a");
        var a = harness.Combiner.ExecuteAsync(Key, "a", TestContext.Current.CancellationToken).AsTask();
        await entered;

        var queued = new[] { "b", "c", "d", "e" }.Select(i => harness.Combiner.ExecuteAsync(Key, i, TestContext.Current.CancellationToken).AsTask()).ToArray();
        harness.Open("a");

        Assert.Equal("A", await a);
        Assert.Equal(["B", "C", "D", "E"], await Task.WhenAll(queued));
        Assert.Equal([["a"], ["b", "c", "d", "e"]], harness.Batches);
        Assert.Equal(0, harness.Combiner.KeyCount);
    }

    [Fact]
    public async Task ExecuteAsync_OneItemRejected_OnlyThatCallerFails()
    {
        var harness = new CombinerHarness(InProcess());
        var entered = harness.BlockAsync("a");
        var a = harness.Combiner.ExecuteAsync(Key, "a", TestContext.Current.CancellationToken).AsTask();
        await entered;

        var b = harness.Combiner.ExecuteAsync(Key, "b", TestContext.Current.CancellationToken).AsTask();
        var fail = harness.Combiner.ExecuteAsync(Key, "fail-c", TestContext.Current.CancellationToken).AsTask();
        var d = harness.Combiner.ExecuteAsync(Key, "d", TestContext.Current.CancellationToken).AsTask();
        harness.Open("a");

        Assert.Equal("A", await a);
        Assert.Equal("B", await b);
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => fail);
        Assert.Equal("rejected fail-c", ex.Message);
        Assert.Equal("D", await d);
        Assert.Equal([["a"], ["b", "fail-c", "d"]], harness.Batches);
    }

    [Fact]
    public async Task ExecuteAsync_BatchWorkThrows_FailsEveryItemOfThatBatchOnlyAndRollsBack()
    {
        var log = new List<string>();
        var pipeline = new LockPipelineBuilder { WaitTimeout = TimeSpan.FromSeconds(30) }.AddInProcessLock().AddStage(new RecordingStage("tx", log)).Build();
        var boom = new InvalidOperationException("boom");
        var harness = new CombinerHarness(pipeline) { ThrowWhenLeading = ("b", boom) };
        var entered = harness.BlockAsync("a");
        var a = harness.Combiner.ExecuteAsync(Key, "a", TestContext.Current.CancellationToken).AsTask();
        await entered;

        var b = harness.Combiner.ExecuteAsync(Key, "b", TestContext.Current.CancellationToken).AsTask();
        var c = harness.Combiner.ExecuteAsync(Key, "c", TestContext.Current.CancellationToken).AsTask();
        harness.Open("a");

        Assert.Equal("A", await a);
        Assert.Same(boom, await Assert.ThrowsAsync<InvalidOperationException>(() => b));
        Assert.Same(boom, await Assert.ThrowsAsync<InvalidOperationException>(() => c));
        Assert.Equal(["release tx commit", "release tx rollback"], log.Where(e => e.StartsWith("release", StringComparison.Ordinal)));

        // The next caller is not affected by the failed batch.
        Assert.Equal("D", await harness.Combiner.ExecuteAsync(Key, "d", TestContext.Current.CancellationToken));
        Assert.Equal(0, harness.Combiner.KeyCount);
    }

    [Fact]
    public async Task ExecuteAsync_CommitFailsAfterWork_FailsItemsThatHadResults()
    {
        var log = new List<string>();
        var commitFailure = new InvalidOperationException("commit failed");
        var pipeline = new LockPipelineBuilder().AddStage(new RecordingStage("tx", log) { ReleaseFailure = commitFailure, DeclaredTraits = LockStageTraits.OpensTransaction }).Build();
        var harness = new CombinerHarness(pipeline);

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(async () => await harness.Combiner.ExecuteAsync(Key, "a", TestContext.Current.CancellationToken));

        Assert.Same(commitFailure, ex);
    }

    [Fact]
    public async Task ExecuteAsync_WorkReportsNoOutcomeForAnItem_ThatCallerGetsAnError()
    {
        var harness = new CombinerHarness(InProcess());

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(async () => await harness.Combiner.ExecuteAsync(Key, "silent", TestContext.Current.CancellationToken));

        Assert.Contains("without reporting an outcome for item #0", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExecuteAsync_QueuedItemCancelled_RemovesOnlyThatItem()
    {
        var harness = new CombinerHarness(InProcess());
        var entered = harness.BlockAsync("a");
        var a = harness.Combiner.ExecuteAsync(Key, "a", TestContext.Current.CancellationToken).AsTask();
        await entered;
        using var cancelC = new CancellationTokenSource();

        var b = harness.Combiner.ExecuteAsync(Key, "b", TestContext.Current.CancellationToken).AsTask();
        var c = harness.Combiner.ExecuteAsync(Key, "c", cancelC.Token).AsTask();
        var d = harness.Combiner.ExecuteAsync(Key, "d", TestContext.Current.CancellationToken).AsTask();
        await cancelC.CancelAsync();

        var cancelled = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => c);
        Assert.Equal(cancelC.Token, cancelled.CancellationToken);
        Assert.False(b.IsCompleted);
        harness.Open("a");
        Assert.Equal("A", await a);
        Assert.Equal("B", await b);
        Assert.Equal("D", await d);
        Assert.Equal([["a"], ["b", "d"]], harness.Batches);
        Assert.Equal(0, harness.Combiner.KeyCount);
    }

    [Fact]
    public async Task ExecuteAsync_LeaderCancelledAfterItsBatchStarted_OtherItemsStillComplete()
    {
        var harness = new CombinerHarness(InProcess());
        var enteredA = harness.BlockAsync("a");
        var a = harness.Combiner.ExecuteAsync(Key, "a", TestContext.Current.CancellationToken).AsTask();
        await enteredA;
        using var cancelB = new CancellationTokenSource();
        var enteredB = harness.BlockAsync("b");
        var b = harness.Combiner.ExecuteAsync(Key, "b", cancelB.Token).AsTask();
        var c = harness.Combiner.ExecuteAsync(Key, "c", TestContext.Current.CancellationToken).AsTask();
        harness.Open("a");
        await enteredB;

        // b leads the batch [b, c] and gives up: the batch is already running, so both complete.
        await cancelB.CancelAsync();
        harness.Open("b");

        Assert.Equal("B", await b);
        Assert.Equal("C", await c);
        Assert.Equal([["a"], ["b", "c"]], harness.Batches);
        Assert.Equal("A", await a);
    }

    [Fact]
    public async Task ExecuteAsync_MoreQueuedThanMaxBatchSize_SplitsIntoBoundedBatches()
    {
        var harness = new CombinerHarness(InProcess(), new LockCombinerOptions { MaxBatchSize = 2 });
        var entered = harness.BlockAsync("a");
        var a = harness.Combiner.ExecuteAsync(Key, "a", TestContext.Current.CancellationToken).AsTask();
        await entered;

        var queued = new[] { "b", "c", "d", "e", "f" }.Select(i => harness.Combiner.ExecuteAsync(Key, i, TestContext.Current.CancellationToken).AsTask()).ToArray();
        harness.Open("a");

        Assert.Equal("A", await a);
        Assert.Equal(["B", "C", "D", "E", "F"], await Task.WhenAll(queued));
        Assert.Equal([["a"], ["b", "c"], ["d", "e"], ["f"]], harness.Batches);
    }

    [Fact]
    public async Task ExecuteAsync_QueuedPastTheWaitTimeout_FailsWithLockTimeoutAndLeavesTheLeaderAlone()
    {
        var time = new FakeTimeProvider();
        var harness = new CombinerHarness(InProcess(TimeSpan.FromSeconds(1), time), new LockCombinerOptions { TimeProvider = time });
        var entered = harness.BlockAsync("a");
        var a = harness.Combiner.ExecuteAsync(Key, "a", TestContext.Current.CancellationToken).AsTask();
        await entered;
        var b = harness.Combiner.ExecuteAsync(Key, "b", TestContext.Current.CancellationToken).AsTask();

        time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(b.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));

        var ex = await Assert.ThrowsAsync<LockTimeoutException>(() => b);
        Assert.Equal("account", ex.Resource);
        Assert.Equal("in-process", ex.Stage);
        Assert.Equal(TimeSpan.FromSeconds(1), ex.WaitTimeout);
        Assert.False(a.IsCompleted);
        harness.Open("a");
        Assert.Equal("A", await a);
        Assert.Equal([["a"]], harness.Batches);
        Assert.Equal(0, harness.Combiner.KeyCount);
    }

    [Fact]
    public async Task ExecuteAsync_PromotedLeader_AcquiresWithWhatIsLeftOfItsWait()
    {
        var time = new FakeTimeProvider();
        var stage = new RecordingStage("only", []);
        var pipeline = new LockPipelineBuilder { WaitTimeout = TimeSpan.FromSeconds(1), TimeProvider = time }.AddStage(stage).Build();
        var harness = new CombinerHarness(pipeline, new LockCombinerOptions { TimeProvider = time });
        var entered = harness.BlockAsync("a");
        var a = harness.Combiner.ExecuteAsync(Key, "a", TestContext.Current.CancellationToken).AsTask();
        await entered;
        var b = harness.Combiner.ExecuteAsync(Key, "b", TestContext.Current.CancellationToken).AsTask();

        time.Advance(TimeSpan.FromMilliseconds(600));
        harness.Open("a");

        Assert.Equal("B", await b);
        Assert.Equal(TimeSpan.FromMilliseconds(400), stage.LastWait);
        Assert.Equal("A", await a);
    }

    [Fact]
    public async Task ExecuteAsync_LeaderTimesOutOnTheLock_EveryWaitingCallerFailsWithLockTimeout()
    {
        var stage = new InProcessLockStage();
        var holder = new LockPipelineBuilder { Name = "holder" }.AddStage(stage).Build();
        var pipeline = new LockPipelineBuilder { WaitTimeout = TimeSpan.FromMilliseconds(100) }.AddStage(stage).Build();
        var harness = new CombinerHarness(pipeline);
        var held = await HeldLock.TakeAsync(holder, Key);

        var callers = new[] { "a", "b", "c" }.Select(i => harness.Combiner.ExecuteAsync(Key, i, TestContext.Current.CancellationToken).AsTask()).ToArray();

        foreach (var caller in callers)
        {
            await Assert.ThrowsAsync<LockTimeoutException>(() => caller);
        }

        await held.ReleaseAsync();
        Assert.Empty(harness.Batches);
        Assert.Equal(0, harness.Combiner.KeyCount);
    }

    [Fact]
    public async Task ExecuteAsync_LeaseLostDuringBatch_FailsEveryItemWithLeaseLost()
    {
        using var lease = new CancellationTokenSource();
        var pipeline = new LockPipelineBuilder().AddStage(new RecordingStage("redis", []) { Lease = lease.Token }).Build();
        var harness = new CombinerHarness(pipeline) { WaitForLeaseLoss = true };
        var entered = harness.BlockAsync("a");
        var a = harness.Combiner.ExecuteAsync(Key, "a", TestContext.Current.CancellationToken).AsTask();
        await entered;
        var b = harness.Combiner.ExecuteAsync(Key, "b", TestContext.Current.CancellationToken).AsTask();
        var c = harness.Combiner.ExecuteAsync(Key, "c", TestContext.Current.CancellationToken).AsTask();

        harness.Open("a");
        await lease.CancelAsync();

        foreach (var caller in new[] { a, b, c })
        {
            var ex = await Assert.ThrowsAsync<LockLeaseLostException>(() => caller);
            Assert.Equal("redis", ex.Stage);
        }

        Assert.Equal(0, harness.Combiner.KeyCount);
    }

    [Fact]
    public async Task ExecuteAsync_TenThousandDistinctKeys_LeavesNoPerKeyState()
    {
        var harness = new CombinerHarness(InProcess());
        var hot = new LockKey("account", "hot");

        var results = await Task.WhenAll(Enumerable.Range(0, 10_000).Select(i => Task.Run(async () =>
        {
            var key = i % 10 == 0 ? hot : new LockKey("account", i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return await harness.Combiner.ExecuteAsync(key, $"x{i}", TestContext.Current.CancellationToken);
        })));

        Assert.Equal(10_000, results.Distinct().Count());
        Assert.Equal(10_000, harness.Batches.Sum(b => b.Length));
        Assert.Equal(0, harness.Combiner.KeyCount);
    }

    [Fact]
    public async Task ExecuteAsync_ManyConcurrentCallersOnOneKey_NeverOverlapAndLoseNothing()
    {
        var inside = 0;
        var maxInside = 0;
        long counter = 0;
        var combiner = new LockCombiner<long, long>(InProcess(), async (_, batch, _) =>
        {
            var now = Interlocked.Increment(ref inside);
            maxInside = Math.Max(maxInside, now);
            var read = counter;
            await Task.Yield();
            for (var i = 0; i < batch.Count; i++)
            {
                read += batch[i];
                batch.SetResult(i, read);
            }

            counter = read;
            Interlocked.Decrement(ref inside);
        });

        var results = await Task.WhenAll(Enumerable.Range(0, 2000).Select(_ => Task.Run(async () => await combiner.ExecuteAsync(Key, 1, TestContext.Current.CancellationToken))));

        Assert.Equal(1, maxInside);
        Assert.Equal(2000, counter);
        Assert.Equal(Enumerable.Range(1, 2000).Select(i => (long)i), results.Order());
        Assert.Equal(0, combiner.KeyCount);
    }

    [Fact]
    public void Constructor_BatchSizeOutOfRange_Throws()
    {
        var zero = Assert.Throws<ArgumentException>(() => new LockCombiner<int, int>(InProcess(), (_, _, _) => ValueTask.CompletedTask, new LockCombinerOptions { MaxBatchSize = 0 }));
        var over = Assert.Throws<ArgumentException>(() => new LockCombiner<int, int>(InProcess(), (_, _, _) => ValueTask.CompletedTask, new LockCombinerOptions { MaxBatchSize = 4097 }));
        Assert.Contains("LockCombinerOptions.MaxBatchSize must be between 1 and 4096 (was 0).", zero.Message, StringComparison.Ordinal);
        Assert.Contains("LockCombinerOptions.MaxBatchSize must be between 1 and 4096 (was 4097).", over.Message, StringComparison.Ordinal);
    }
}
