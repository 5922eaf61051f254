namespace DualLock.Tests.Pipeline;

/// <summary>
/// A stage that enforces fencing tokens fences only the keys that carry one, so the pipeline refuses to start it while
/// a key has no token and a token-issuing stage outside holds its lock: the work would run unfenced, silently.
/// </summary>
public sealed class FencingCoverageTests
{
    private const LockStageTraits Issuer = LockStageTraits.Excludes | LockStageTraits.IssuesFencingToken;
    private const LockStageTraits FencedTransaction = LockStageTraits.OpensTransaction | LockStageTraits.EnforcesFencingToken;
    private static readonly LockKey First = new("account", "secret-id-1");
    private static readonly LockKey Second = new("order", "secret-id-2");
    private readonly List<string> _log = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task KeySet_IssuerReportsOneTokenForTheSet_FailsBeforeTheFencedStageAndReleasesTheIssuer()
    {
        var pipeline = Build(new RecordingStage("redis", _log) { DeclaredTraits = Issuer, Token = 7 }, new RecordingStage("tx", _log) { DeclaredTraits = FencedTransaction });
        var workRan = false;

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await pipeline.ExecuteAsync([First, Second], (_, _) => { workRan = true; return ValueTask.CompletedTask; }, cancellationToken: Ct));

        Assert.False(workRan);
        Assert.Equal(["acquire redis (token seen: none)", "release redis rollback"], _log);
        Assert.Contains("Stage 'tx'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("from stage 'redis'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("2 of the 2 keys (resource 'account', 'order')", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-id", ex.Message, StringComparison.Ordinal); // ids may be personal data
    }

    [Fact]
    public async Task KeySet_IssuerGivesOneKeyNoToken_Fails()
    {
        var pipeline = Build(new PerKeyTokenStage("redis", [5, null]), new RecordingStage("tx", _log) { DeclaredTraits = FencedTransaction });

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await pipeline.ExecuteAsync([First, Second], (_, _) => ValueTask.CompletedTask, cancellationToken: Ct));

        Assert.Contains("1 of the 2 keys (resource 'order')", ex.Message, StringComparison.Ordinal);
        Assert.Empty(_log);
    }

    [Fact]
    public async Task SingleKey_IssuerReportsNoToken_Fails()
    {
        var pipeline = Build(new RecordingStage("redis", _log) { DeclaredTraits = Issuer }, new RecordingStage("tx", _log) { DeclaredTraits = FencedTransaction });

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await pipeline.ExecuteAsync(First, (_, _) => ValueTask.CompletedTask, cancellationToken: Ct));

        Assert.Equal(["acquire redis (token seen: none)", "release redis rollback"], _log);
    }

    /// <summary>Control: a token for every key, and the fenced stage starts with it.</summary>
    [Fact]
    public async Task KeySet_IssuerGivesEveryKeyAToken_FencedStageRuns()
    {
        var pipeline = Build(new PerKeyTokenStage("redis", [5, 6]), new RecordingStage("tx", _log) { DeclaredTraits = FencedTransaction });

        var tokens = await pipeline.ExecuteAsync([First, Second], (ctx, _) => ValueTask.FromResult((ctx.GetFencingToken(First), ctx.GetFencingToken(Second))), cancellationToken: Ct);

        Assert.Equal((5L, 6L), tokens);
        Assert.Equal(["acquire tx (token seen: 5)", "release tx commit"], _log);
    }

    /// <summary>
    /// The documented fallback is unchanged: the issuer skipped during its outage, no key has a token, and the row lock
    /// inside the fallback is what excludes.
    /// </summary>
    [Fact]
    public async Task KeySet_IssuerSkippedDuringAnOutage_RunsUnderTheInnerLockWithoutTokens()
    {
        var pipeline = new LockPipelineBuilder { Name = $"fencing-coverage-{Guid.NewGuid():N}", WaitTimeout = TimeSpan.FromSeconds(1) }
            .AddStage(new RecordingStage("redis", _log) { DeclaredTraits = Issuer, AcquireFailure = new LockUnavailableException("account", "redis", TimeSpan.Zero) })
            .ContinueIfUnavailable()
            .AddStage(new RecordingStage("tx", _log) { DeclaredTraits = FencedTransaction })
            .AddStage(new RecordingStage("row", _log) { DeclaredTraits = LockStageTraits.Excludes | LockStageTraits.HeldByTransaction })
            .Build();

        var ran = await pipeline.ExecuteAsync([First, Second], (_, _) => ValueTask.FromResult(true), cancellationToken: Ct);

        Assert.True(ran);
        Assert.Contains("acquire tx (token seen: none)", _log);
    }

    private static LockPipeline Build(LockStage issuer, LockStage fenced)
        => new LockPipelineBuilder { Name = $"fencing-coverage-{Guid.NewGuid():N}", WaitTimeout = TimeSpan.FromSeconds(1) }
            .AddStage(issuer)
            .AddStage(fenced)
            .Build();

    /// <summary>An issuer over a key set that reports the given token (or none) for each key, in the set's order.</summary>
    private sealed class PerKeyTokenStage(string name, long?[] tokens) : LockStage(name)
    {
        protected internal override LockStageTraits Traits => Issuer;

        public override ValueTask<LockStageHandle?> TryAcquireAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
            => ValueTask.FromResult<LockStageHandle?>(new Handle(tokens));

        private sealed class Handle(long?[] tokens) : LockStageHandle
        {
            public override IReadOnlyList<long?>? FencingTokens => tokens;

            public override ValueTask ReleaseAsync(bool workSucceeded) => ValueTask.CompletedTask;
        }
    }
}
