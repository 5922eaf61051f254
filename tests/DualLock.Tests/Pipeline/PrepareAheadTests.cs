namespace DualLock.Tests.Pipeline;

/// <summary>
/// A stage that can prepare (a transaction opened without a lock) is prepared while the outer lock acquires, and
/// completed only once the outer lock holds; a prepare the outer stage did not let through is discarded, never used;
/// at most <see cref="LockPipeline.MaxPreparedAhead"/> executions hold one ahead of their outer stage.
/// </summary>
public sealed class PrepareAheadTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Prepare_StartsWhileTheOuterLockAcquires_AndCompletesAfterItHolds()
    {
        var outer = new GatedOuterStage();
        var inner = new FakePreparingStage();
        var pipeline = Build(outer, inner);

        var run = pipeline.ExecuteAsync(new LockKey("account", 1), (ctx, _) => ValueTask.FromResult(ctx.GetFeature<string>()), cancellationToken: Ct).AsTask();
        await inner.Prepared.Task.WaitAsync(TimeSpan.FromSeconds(5), Ct);

        Assert.Equal(0, inner.Completed); // prepared, not completed: the outer lock is not held yet
        outer.Open(acquire: true);
        Assert.Equal("prepared-1", await run.WaitAsync(TimeSpan.FromSeconds(5), Ct));
        Assert.Equal((1, 0, 0), (inner.Completed, inner.Discarded, inner.PlainAcquires));
    }

    [Fact]
    public async Task OuterTimesOut_ThePrepareIsDiscardedAndNeverCompleted()
    {
        var outer = new GatedOuterStage();
        var inner = new FakePreparingStage();
        var pipeline = Build(outer, inner);

        var run = pipeline.TryExecuteAsync(new LockKey("account", 1), (_, _) => ValueTask.CompletedTask, cancellationToken: Ct).AsTask();
        await inner.Prepared.Task.WaitAsync(TimeSpan.FromSeconds(5), Ct);
        outer.Open(acquire: false);

        Assert.False(await run.WaitAsync(TimeSpan.FromSeconds(5), Ct));
        Assert.Equal((0, 1), (inner.Completed, inner.Discarded));
    }

    [Fact]
    public async Task OuterThrows_ThePrepareIsDiscarded()
    {
        var outer = new GatedOuterStage();
        var inner = new FakePreparingStage();
        var pipeline = Build(outer, inner);

        var run = pipeline.ExecuteAsync(new LockKey("account", 1), (_, _) => ValueTask.CompletedTask, cancellationToken: Ct).AsTask();
        await inner.Prepared.Task.WaitAsync(TimeSpan.FromSeconds(5), Ct);
        outer.Fail(new LockUnavailableException("account", "outer", TimeSpan.Zero));

        await Assert.ThrowsAsync<LockUnavailableException>(() => run.WaitAsync(TimeSpan.FromSeconds(5), Ct));
        Assert.Equal((0, 1), (inner.Completed, inner.Discarded));
    }

    [Fact]
    public async Task PrepareFails_ThePlainAcquireRunsAndReportsAsAlways()
    {
        var outer = new GatedOuterStage();
        var inner = new FakePreparingStage { PrepareFailure = new InvalidOperationException("connection refused") };
        var pipeline = Build(outer, inner);

        var run = pipeline.ExecuteAsync(new LockKey("account", 1), (ctx, _) => ValueTask.FromResult(ctx.GetFeature<string>()), cancellationToken: Ct).AsTask();
        await inner.Prepared.Task.WaitAsync(TimeSpan.FromSeconds(5), Ct);
        outer.Open(acquire: true);

        Assert.Equal("plain", await run.WaitAsync(TimeSpan.FromSeconds(5), Ct));
        Assert.Equal((0, 1), (inner.Completed, inner.PlainAcquires));
    }

    [Fact]
    public async Task ManyWaitingOnTheOuterLock_AtMostMaxPreparedAheadHoldAPrepare()
    {
        var outer = new GatedOuterStage();
        var inner = new FakePreparingStage();
        var pipeline = Build(outer, inner);
        var callers = LockPipeline.MaxPreparedAhead + 3;

        var runs = Enumerable.Range(0, callers)
            .Select(i => pipeline.ExecuteAsync(new LockKey("account", i), (_, _) => ValueTask.CompletedTask, cancellationToken: Ct).AsTask())
            .ToArray();
        await outer.WaitForWaitersAsync(callers);
        await Task.Delay(50, Ct); // any prepare beyond the bound would have started by now

        Assert.Equal(LockPipeline.MaxPreparedAhead, inner.Prepares);
        outer.Open(acquire: true);
        await Task.WhenAll(runs).WaitAsync(TimeSpan.FromSeconds(5), Ct);
        Assert.Equal((LockPipeline.MaxPreparedAhead, callers - LockPipeline.MaxPreparedAhead), (inner.Completed, inner.PlainAcquires));

        // The bound counts only prepares still ahead of their outer stage: a later caller prepares again.
        await pipeline.ExecuteAsync(new LockKey("account", 99), (_, _) => ValueTask.CompletedTask, cancellationToken: Ct);
        Assert.Equal(LockPipeline.MaxPreparedAhead + 1, inner.Prepares);
    }

    /// <summary>Control: with a transaction stage first (no outer lock), nothing is prepared.</summary>
    [Fact]
    public async Task NoOuterLock_NothingIsPrepared()
    {
        var inner = new FakePreparingStage();
        var pipeline = new LockPipelineBuilder { Name = $"prepare-{Guid.NewGuid():N}", WaitTimeout = TimeSpan.FromSeconds(2) }.AddStage(inner).Build();

        Assert.Equal("plain", await pipeline.ExecuteAsync(new LockKey("account", 1), (ctx, _) => ValueTask.FromResult(ctx.GetFeature<string>()), cancellationToken: Ct));
        Assert.Equal(0, inner.Prepares);
    }

    private static LockPipeline Build(LockStage outer, LockStage inner)
        => new LockPipelineBuilder { Name = $"prepare-{Guid.NewGuid():N}", WaitTimeout = TimeSpan.FromSeconds(2) }.AddStage(outer).AddStage(inner).Build();

    /// <summary>An outer lock whose acquires wait until the test opens (or fails) the gate.</summary>
    private sealed class GatedOuterStage() : LockStage("outer")
    {
        private readonly TaskCompletionSource<Exception?> _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _waiters;
        private bool _acquire;

        protected internal override LockStageTraits Traits => LockStageTraits.Excludes;

        public void Open(bool acquire)
        {
            _acquire = acquire;
            _gate.TrySetResult(null);
        }

        public void Fail(Exception ex) => _gate.TrySetResult(ex);

        public async Task WaitForWaitersAsync(int count)
        {
            while (Volatile.Read(ref _waiters) < count)
            {
                await Task.Delay(5);
            }
        }

        public override async ValueTask<LockStageHandle?> TryAcquireAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _waiters);
            if (await _gate.Task.WaitAsync(cancellationToken) is { } failure)
            {
                throw failure;
            }

            return _acquire ? new Handle() : null;
        }

        private sealed class Handle : LockStageHandle
        {
            public override ValueTask ReleaseAsync(bool workSucceeded) => ValueTask.CompletedTask;
        }
    }

    /// <summary>A transaction-like stage: prepares a state, completes from it (the feature "prepared-N"), or acquires plainly ("plain").</summary>
    private sealed class FakePreparingStage() : PreparingLockStage("tx")
    {
        private int _prepares;
        private int _completed;
        private int _discarded;
        private int _plain;

        public TaskCompletionSource Prepared { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Exception? PrepareFailure { get; init; }

        public int Prepares => Volatile.Read(ref _prepares);

        public int Completed => Volatile.Read(ref _completed);

        public int Discarded => Volatile.Read(ref _discarded);

        public int PlainAcquires => Volatile.Read(ref _plain);

        internal override bool CanPrepare => true;

        protected internal override LockStageTraits Traits => LockStageTraits.OpensTransaction;

        public override ValueTask<LockStageHandle?> TryAcquireAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _plain);
            context.SetFeature("plain");
            return ValueTask.FromResult<LockStageHandle?>(new Handle());
        }

        internal override ValueTask<object?> PrepareAsync(TimeSpan waitTimeout, CancellationToken cancellationToken)
        {
            var n = Interlocked.Increment(ref _prepares);
            Prepared.TrySetResult();
            return PrepareFailure is null ? ValueTask.FromResult<object?>($"prepared-{n}") : ValueTask.FromException<object?>(PrepareFailure);
        }

        internal override ValueTask<LockStageHandle?> CompleteAsync(LockContext context, object prepared)
        {
            Interlocked.Increment(ref _completed);
            context.SetFeature((string)prepared);
            return ValueTask.FromResult<LockStageHandle?>(new Handle());
        }

        internal override ValueTask DiscardAsync(object prepared)
        {
            Interlocked.Increment(ref _discarded);
            return ValueTask.CompletedTask;
        }

        private sealed class Handle : LockStageHandle
        {
            public override ValueTask ReleaseAsync(bool workSucceeded) => ValueTask.CompletedTask;
        }
    }
}
