namespace DualLock.Tests.Pipeline;

public sealed class LockPipelineCompositionTests
{
    private static readonly LockKey Key = new("account", "1");
    private readonly List<string> _log = [];

    [Fact]
    public async Task ExecuteAsync_ThreeStages_AcquiresOutermostFirstAndReleasesInReverse()
    {
        var pipeline = Build(Stage("a"), Stage("b"), Stage("c"));

        var result = await pipeline.ExecuteAsync(Key, (_, _) =>
        {
            _log.Add("work");
            return ValueTask.FromResult(42);
        }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(42, result);
        Assert.Equal(
            ["acquire a (token seen: none)", "acquire b (token seen: none)", "acquire c (token seen: none)", "work",
             "release c commit", "release b commit", "release a commit"],
            _log);
    }

    [Fact]
    public async Task ExecuteAsync_WorkThrows_ReleasesEveryStageInReverseWithRollbackAndRethrows()
    {
        var pipeline = Build(Stage("a"), Stage("b"));

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await pipeline.ExecuteAsync(Key, (_, _) => throw new InvalidOperationException("boom"), cancellationToken: TestContext.Current.CancellationToken));

        Assert.Equal("boom", ex.Message);
        Assert.Equal(["acquire a (token seen: none)", "acquire b (token seen: none)", "release b rollback", "release a rollback"], _log);
    }

    [Fact]
    public async Task ExecuteAsync_InnerStageTimesOut_ReleasesOuterAndThrowsTimeoutNamingStage()
    {
        var pipeline = Build(Stage("outer"), new RecordingStage("inner", _log) { TimeOut = true });
        var ran = false;

        var ex = await Assert.ThrowsAsync<LockTimeoutException>(async () =>
            await pipeline.ExecuteAsync(Key, (_, _) => { ran = true; return ValueTask.CompletedTask; }, cancellationToken: TestContext.Current.CancellationToken));

        Assert.False(ran);
        Assert.Equal("inner", ex.Stage);
        Assert.Equal("account", ex.Resource);
        Assert.Contains("'inner' lock on resource 'account'", ex.Message, StringComparison.Ordinal);
        Assert.Equal(["acquire outer (token seen: none)", "acquire inner (token seen: none)", "release outer rollback"], _log);
    }

    [Fact]
    public async Task TryExecuteAsync_Timeout_ReturnsNotAcquiredWithoutThrowing()
    {
        var pipeline = Build(new RecordingStage("only", _log) { TimeOut = true });

        var attempt = await pipeline.TryExecuteAsync(Key, (_, _) => ValueTask.FromResult("ran"), cancellationToken: TestContext.Current.CancellationToken);
        var ranVoid = await pipeline.TryExecuteAsync(Key, (_, _) => ValueTask.CompletedTask, cancellationToken: TestContext.Current.CancellationToken);

        Assert.False(attempt.Acquired);
        Assert.Null(attempt.Result);
        Assert.False(ranVoid);
    }

    [Fact]
    public async Task TryExecuteAsync_StageThrowsItsOwnTimeout_ReportsNotAcquiredAndReleasesOuter()
    {
        var serverTimeout = new LockTimeoutException("account", "row", TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), new InvalidOperationException("1205"));
        var pipeline = Build(Stage("outer"), new RecordingStage("row", _log) { AcquireFailure = serverTimeout });

        var acquired = await pipeline.TryExecuteAsync(Key, (_, _) => ValueTask.CompletedTask, cancellationToken: TestContext.Current.CancellationToken);
        var thrown = await Assert.ThrowsAsync<LockTimeoutException>(async () =>
            await pipeline.ExecuteAsync(Key, (_, _) => ValueTask.CompletedTask, cancellationToken: TestContext.Current.CancellationToken));

        Assert.False(acquired);
        Assert.Same(serverTimeout, thrown);
        Assert.Equal(2, _log.Count(e => e == "release outer rollback"));
    }

    [Fact]
    public async Task TryExecuteAsync_Acquired_ReturnsResult()
    {
        var pipeline = Build(Stage("only"));

        var attempt = await pipeline.TryExecuteAsync(Key, (_, _) => ValueTask.FromResult("ran"), cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(new LockAttempt<string>(true, "ran"), attempt);
    }

    [Fact]
    public async Task ExecuteAsync_InnerStageUnavailable_ReleasesOuterAndPropagates()
    {
        var unavailable = new LockUnavailableException("account", "inner", TimeSpan.FromMilliseconds(3), new IOException("refused"));
        var pipeline = Build(Stage("outer"), new RecordingStage("inner", _log) { AcquireFailure = unavailable });

        var ex = await Assert.ThrowsAsync<LockUnavailableException>(async () =>
            await pipeline.ExecuteAsync(Key, (_, _) => ValueTask.CompletedTask, cancellationToken: TestContext.Current.CancellationToken));

        Assert.Same(unavailable, ex);
        Assert.Contains("refused", ex.Message, StringComparison.Ordinal);
        Assert.Equal(["acquire outer (token seen: none)", "acquire inner (token seen: none)", "release outer rollback"], _log);
    }

    [Fact]
    public async Task ExecuteAsync_InnerReleaseFails_OuterStillReleasedAsFailedAndErrorSurfaces()
    {
        var pipeline = Build(Stage("outer"), new RecordingStage("tx", _log) { ReleaseFailure = new InvalidOperationException("commit failed"), DeclaredTraits = LockStageTraits.OpensTransaction });

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await pipeline.ExecuteAsync(Key, (_, _) => ValueTask.CompletedTask, cancellationToken: TestContext.Current.CancellationToken));

        Assert.Equal("commit failed", ex.Message);
        Assert.Equal(["acquire outer (token seen: none)", "acquire tx (token seen: none)", "release tx commit", "release outer rollback"], _log);
    }

    [Fact]
    public async Task ExecuteAsync_WorkAndReleaseBothFail_WorkExceptionSurfaces()
    {
        var pipeline = Build(new RecordingStage("tx", _log) { ReleaseFailure = new InvalidOperationException("rollback failed") });

        var ex = await Assert.ThrowsAsync<FormatException>(async () =>
            await pipeline.ExecuteAsync(Key, (_, _) => throw new FormatException("work failed"), cancellationToken: TestContext.Current.CancellationToken));

        Assert.Equal("work failed", ex.Message);
    }

    [Fact]
    public async Task ExecuteAsync_StageIssuesFencingToken_InnerStagesAndWorkSeeIt()
    {
        var pipeline = Build(new RecordingStage("redis", _log) { Token = 7 }, Stage("db"));

        var seen = await pipeline.ExecuteAsync(Key, (ctx, _) => ValueTask.FromResult(ctx.FencingToken), cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(7, seen);
        Assert.Contains("acquire db (token seen: 7)", _log);
    }

    [Fact]
    public async Task ExecuteAsync_LeaseLostDuringWork_WorkTokenFiresAndLeaseLostExceptionNamesStage()
    {
        using var lease = new CancellationTokenSource();
        var pipeline = Build(new RecordingStage("redis", _log) { Lease = lease.Token });

        var ex = await Assert.ThrowsAsync<LockLeaseLostException>(async () =>
            await pipeline.ExecuteAsync(Key, async (ctx, ct) =>
            {
                Assert.False(ct.IsCancellationRequested);
                await lease.CancelAsync();
                Assert.True(ctx.LeaseLost.IsCancellationRequested);
                Assert.Equal("redis", ctx.LeaseLostStage);
                ct.ThrowIfCancellationRequested();
            }, cancellationToken: TestContext.Current.CancellationToken));

        Assert.Equal("redis", ex.Stage);
        Assert.Equal(["acquire redis (token seen: none)", "release redis rollback"], _log);
    }

    [Fact]
    public async Task ExecuteAsync_CallerCancelsWork_ThrowsOperationCanceledNotLeaseLost()
    {
        using var lease = new CancellationTokenSource();
        using var caller = new CancellationTokenSource();
        var pipeline = Build(new RecordingStage("redis", _log) { Lease = lease.Token });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            await pipeline.ExecuteAsync(Key, async (_, ct) =>
            {
                await caller.CancelAsync();
                ct.ThrowIfCancellationRequested();
            }, cancellationToken: caller.Token));
    }

    [Fact]
    public async Task ExecuteAsync_WaitBudget_IsSharedAcrossStages()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var first = new SlowStage("first", time, TimeSpan.FromMilliseconds(700));
        var second = new RecordingStage("second", _log);
        var pipeline = new LockPipelineBuilder { WaitTimeout = TimeSpan.FromSeconds(2), TimeProvider = time }
            .AddStage(first).AddStage(second).Build();

        await pipeline.ExecuteAsync(Key, (_, _) => ValueTask.CompletedTask, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(TimeSpan.FromMilliseconds(1300), second.LastWait);
    }

    [Fact]
    public async Task ExecuteAsync_PerCallWaitTimeout_OverridesPipelineDefault()
    {
        var stage = Stage("only");
        var pipeline = Build(stage);

        await pipeline.ExecuteAsync(Key, (_, _) => ValueTask.CompletedTask, TimeSpan.FromMilliseconds(250), TestContext.Current.CancellationToken);

        Assert.InRange(stage.LastWait!.Value, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(250));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(601_000)]
    public async Task ExecuteAsync_UnboundedOrNegativeWait_ThrowsBeforeAcquiring(int milliseconds)
    {
        var pipeline = Build(Stage("only"));

        var ex = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () =>
            await pipeline.ExecuteAsync(Key, (_, _) => ValueTask.CompletedTask, TimeSpan.FromMilliseconds(milliseconds), TestContext.Current.CancellationToken));

        Assert.Contains("waits are bounded", ex.Message, StringComparison.Ordinal);
        Assert.Empty(_log);
    }

    [Fact]
    public async Task ExecuteAsync_InfiniteWait_Rejected()
        => await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () =>
            await Build(Stage("only")).ExecuteAsync(Key, (_, _) => ValueTask.CompletedTask, Timeout.InfiniteTimeSpan, TestContext.Current.CancellationToken));

    [Fact]
    public async Task ExecuteAsync_DefaultKey_RejectedWithClearMessage()
    {
        var ex = await Assert.ThrowsAsync<ArgumentException>(async () =>
            await Build(Stage("only")).ExecuteAsync(default(LockKey), (_, _) => ValueTask.CompletedTask, cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains("default(LockKey)", ex.Message, StringComparison.Ordinal);
    }

    private RecordingStage Stage(string name) => new(name, _log);

    private static LockPipeline Build(params LockStage[] stages)
    {
        var builder = new LockPipelineBuilder();
        foreach (var stage in stages)
        {
            builder.AddStage(stage);
        }

        return builder.Build();
    }

    /// <summary>Advances fake time by a fixed amount while acquiring, so the remaining wait is exact.</summary>
    private sealed class SlowStage(string name, Microsoft.Extensions.Time.Testing.FakeTimeProvider time, TimeSpan cost) : LockStage(name)
    {
        public override ValueTask<LockStageHandle?> TryAcquireAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
        {
            time.Advance(cost);
            return new NoLockStage().TryAcquireAsync(context, waitTimeout, cancellationToken);
        }
    }
}
