using DualLock.Telemetry;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace DualLock.Tests.Pipeline;

/// <summary>
/// What a call reports once its work has returned: a lock that fails to release after the transaction
/// committed must not turn committed work into a failure, and a lease lost while the work ran must.
/// </summary>
public sealed class ReleaseAfterWorkTests
{
    private static readonly LockKey Key = new("account", "1");
    private readonly List<string> _log = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ExecuteAsync_OuterLockReleaseFailsAfterInnerCommit_ReturnsResultAndCountsTheFailure()
    {
        var pipeline = Build(
            new RecordingStage("redis", _log) { ReleaseFailure = new InvalidOperationException("NOREPLICAS Not enough good replicas to write.") },
            new RecordingStage("tx", _log) { DeclaredTraits = LockStageTraits.OpensTransaction });
        using var failures = new MetricCollector<long>(null, DualLockTelemetry.Name, "duallock.release.failed");

        var result = await pipeline.ExecuteAsync(Key, (_, _) => ValueTask.FromResult(42), cancellationToken: Ct);

        Assert.Equal(42, result);
        Assert.Equal(["acquire redis (token seen: none)", "acquire tx (token seen: none)", "release tx commit", "release redis commit"], _log);
        var failure = Assert.Single(failures.GetMeasurementSnapshot(), m => Equals(m.Tags[DualLockTelemetry.PipelineTag], pipeline.Name));
        Assert.Equal("redis", failure.Tags[DualLockTelemetry.StageTag]);
    }

    [Fact]
    public async Task ExecuteAsync_LockOnlyPipelineReleaseFails_ReturnsResult()
    {
        // The work ran and returned: whatever it did is done. A lock left held until its lease ends is a wait for others, not a failed call.
        var pipeline = Build(new RecordingStage("redis", _log) { ReleaseFailure = new InvalidOperationException("ERR script error") });

        var attempt = await pipeline.TryExecuteAsync(Key, (_, _) => ValueTask.FromResult("done"), cancellationToken: Ct);

        Assert.True(attempt.Acquired);
        Assert.Equal("done", attempt.Result);
    }

    [Fact]
    public async Task ExecuteAsync_CommitFails_StillSurfacesTheCommitFailure()
    {
        var pipeline = Build(
            new RecordingStage("redis", _log),
            new RecordingStage("tx", _log) { DeclaredTraits = LockStageTraits.OpensTransaction, ReleaseFailure = new InvalidOperationException("commit failed") });

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(async () => await pipeline.ExecuteAsync(Key, (_, _) => ValueTask.FromResult(1), cancellationToken: Ct));

        Assert.Equal("commit failed", ex.Message);
        Assert.Equal("release redis rollback", _log[^1]);
    }

    [Fact]
    public async Task ExecuteAsync_LeaseLostWhileWorkIgnoresIt_FailsTheCallAndRollsBackTheTransaction()
    {
        using var lease = new CancellationTokenSource();
        var pipeline = Build(
            new RecordingStage("redis", _log) { Lease = lease.Token },
            new RecordingStage("tx", _log) { DeclaredTraits = LockStageTraits.OpensTransaction });

        var ex = await Assert.ThrowsAsync<LockLeaseLostException>(async () => await pipeline.ExecuteAsync(Key, async (_, _) =>
        {
            await lease.CancelAsync(); // the work never looks at its token and returns normally
            return 42;
        }, cancellationToken: Ct));

        Assert.Equal("redis", ex.Stage);
        Assert.Contains("rolled back", ex.Message, StringComparison.Ordinal);
        Assert.Equal(["acquire redis (token seen: none)", "acquire tx (token seen: none)", "release tx rollback", "release redis rollback"], _log);
    }

    [Fact]
    public async Task TryExecuteAsync_LeaseLostWithoutTransaction_FailsAndSaysTheWorkRanUnprotected()
    {
        using var lease = new CancellationTokenSource();
        var pipeline = Build(new RecordingStage("redis", _log) { Lease = lease.Token });

        var ex = await Assert.ThrowsAsync<LockLeaseLostException>(async () => await pipeline.TryExecuteAsync(Key, async (_, _) =>
        {
            await lease.CancelAsync();
            return 42;
        }, cancellationToken: Ct));

        Assert.Contains("no transaction", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExecuteAsync_InnerStageRefusesTheToken_OuterHandlesAreMarkedSuperseded()
    {
        var outer = new SupersedableStage("redis");
        var pipeline = Build(outer, new RecordingStage("fence", _log) { AcquireFailure = new LockLeaseLostException("account", "fence", TimeSpan.Zero, "the fence holds a later token.") });

        await Assert.ThrowsAsync<LockLeaseLostException>(async () => await pipeline.ExecuteAsync(Key, (_, _) => ValueTask.FromResult(1), cancellationToken: Ct));

        Assert.Equal(["superseded", "release rollback"], outer.Calls);
    }

    [Fact]
    public async Task ExecuteAsync_StageReportsWrongTokenCount_ItsHandleIsStillReleased()
    {
        // The pipeline fails after the stage returned its handle (SetFencingTokens refuses the count): the lock must not stay held.
        var stage = new WrongTokenCountStage("set");
        var pipeline = Build(stage);

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await pipeline.ExecuteAsync([new LockKey("account", "1"), new LockKey("account", "2")], (_, _) => ValueTask.FromResult(1), cancellationToken: Ct));

        Assert.Contains("reported 1 fencing tokens for 2 keys", ex.Message, StringComparison.Ordinal);
        Assert.Equal(["release rollback"], stage.Calls);
    }

    private static LockPipeline Build(params LockStage[] stages)
    {
        // A name of its own: metric collectors see every test's measurements.
        var builder = new LockPipelineBuilder { Name = $"release-after-work-{Guid.NewGuid():N}", WaitTimeout = TimeSpan.FromSeconds(1) };
        foreach (var stage in stages)
        {
            builder.AddStage(stage);
        }

        return builder.Build();
    }

    private sealed class WrongTokenCountStage(string name) : LockStage(name)
    {
        public List<string> Calls { get; } = [];

        public override ValueTask<LockStageHandle?> TryAcquireAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
            => ValueTask.FromResult<LockStageHandle?>(new Handle(Calls));

        private sealed class Handle(List<string> calls) : LockStageHandle
        {
            public override IReadOnlyList<long?>? FencingTokens => [1];

            public override ValueTask ReleaseAsync(bool workSucceeded)
            {
                calls.Add(workSucceeded ? "release commit" : "release rollback");
                return ValueTask.CompletedTask;
            }
        }
    }

    private sealed class SupersedableStage(string name) : LockStage(name)
    {
        public List<string> Calls { get; } = [];

        public override ValueTask<LockStageHandle?> TryAcquireAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
            => ValueTask.FromResult<LockStageHandle?>(new Handle(Calls));

        private sealed class Handle(List<string> calls) : LockStageHandle
        {
            public override void MarkSuperseded() => calls.Add("superseded");

            public override ValueTask ReleaseAsync(bool workSucceeded)
            {
                calls.Add(workSucceeded ? "release commit" : "release rollback");
                return ValueTask.CompletedTask;
            }
        }
    }
}
