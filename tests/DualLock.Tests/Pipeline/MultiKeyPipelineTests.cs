using System.Globalization;
using Microsoft.Extensions.Time.Testing;

namespace DualLock.Tests.Pipeline;

public sealed class MultiKeyPipelineTests
{
    private static readonly LockKey A = new("account", "a");
    private static readonly LockKey B = new("account", "b");
    private static readonly LockKey C = new("account", "c");
    private readonly List<string> _log = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ExecuteAsync_KeysInAnyOrder_EachStageTakesTheWholeSetInCanonicalOrderBeforeTheNextStage()
    {
        var pipeline = Build(new KeyStage("outer", _log), new KeyStage("inner", _log));

        await pipeline.ExecuteAsync([C, A, B], (ctx, _) =>
        {
            _log.Add($"work {string.Join(",", ctx.Keys.Select(k => k.Id))}");
            return ValueTask.CompletedTask;
        }, cancellationToken: Ct);

        Assert.Equal(
            ["acquire outer a", "acquire outer b", "acquire outer c", "acquire inner a", "acquire inner b", "acquire inner c", "work a,b,c",
             "release inner c commit", "release inner b commit", "release inner a commit",
             "release outer c commit", "release outer b commit", "release outer a commit"],
            _log);
    }

    [Fact]
    public async Task ExecuteAsync_CanonicalOrder_IsOrdinalByResourceThenIdThenScope()
    {
        var pipeline = Build(new KeyStage("s", _log));
        LockKey[] keys = [new("b", "1"), new("a", "2", "x"), new("a", "2"), new("a", "10"), new("B", "9")];

        var seen = await pipeline.ExecuteAsync(keys, (ctx, _) => ValueTask.FromResult(ctx.Keys.Select(k => k.ToString()).ToArray()), cancellationToken: Ct);

        Assert.Equal(["B:9", "a:10", "a:2", "a:2:x", "b:1"], seen);
    }

    [Fact]
    public async Task ExecuteAsync_DuplicateKeys_LockedOnceAndOneDistinctKeyRunsAsSingleKey()
    {
        var pipeline = Build(new KeyStage("s", _log));

        var multi = await pipeline.ExecuteAsync([B, A, B, A], (ctx, _) => ValueTask.FromResult(ctx.Keys.Count), cancellationToken: Ct);
        var single = await pipeline.ExecuteAsync([A, A], (ctx, _) => ValueTask.FromResult(ctx.Keys.Count), cancellationToken: Ct);

        Assert.Equal(2, multi);
        Assert.Equal(1, single);
        Assert.Equal(3, _log.Count(l => l.StartsWith("acquire", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ExecuteAsync_BadKeySets_RejectedWithPreciseMessagesBeforeAnyStageRuns()
    {
        var pipeline = Build(new KeyStage("s", _log));
        ValueTask Work(LockContext c, CancellationToken t) => ValueTask.CompletedTask;

        await Assert.ThrowsAsync<ArgumentNullException>(async () => await pipeline.ExecuteAsync((LockKey[])null!, Work, cancellationToken: Ct));
        var empty = await Assert.ThrowsAsync<ArgumentException>(async () => await pipeline.ExecuteAsync([], Work, cancellationToken: Ct));
        var defaulted = await Assert.ThrowsAsync<ArgumentException>(async () => await pipeline.ExecuteAsync([A, default], Work, cancellationToken: Ct));
        var many = Enumerable.Range(0, 65).Select(i => new LockKey("account", i)).ToArray();
        var tooMany = await Assert.ThrowsAsync<ArgumentException>(async () => await pipeline.ExecuteAsync(many, Work, cancellationToken: Ct));

        Assert.Contains("At least one lock key", empty.Message, StringComparison.Ordinal);
        Assert.Contains("Lock key 1 is default(LockKey)", defaulted.Message, StringComparison.Ordinal);
        Assert.Contains("65 lock keys were given; one execution locks at most 64", tooMany.Message, StringComparison.Ordinal);
        Assert.Empty(_log);
        Assert.Equal(64, await pipeline.ExecuteAsync(many[..64], (ctx, _) => ValueTask.FromResult(ctx.Keys.Count), cancellationToken: Ct));
    }

    [Fact]
    public async Task TryExecuteAsync_InnerStageTimesOutOnTheMiddleKey_ReleasesWhatBothStagesHeldAndReportsNotAcquired()
    {
        var pipeline = Build(new KeyStage("outer", _log), new KeyStage("inner", _log) { TimeOutOn = "b" });

        var acquired = await pipeline.TryExecuteAsync([A, B, C], (_, _) => { _log.Add("work"); return ValueTask.CompletedTask; }, cancellationToken: Ct);

        Assert.False(acquired);
        Assert.Equal(
            ["acquire outer a", "acquire outer b", "acquire outer c", "acquire inner a", "acquire inner b",
             "release inner a rollback", "release outer c rollback", "release outer b rollback", "release outer a rollback"],
            _log);
        var ex = await Assert.ThrowsAsync<LockTimeoutException>(async () => await pipeline.ExecuteAsync([A, B], (_, _) => ValueTask.CompletedTask, cancellationToken: Ct));
        Assert.Equal("inner", ex.Stage);
    }

    [Fact]
    public async Task ExecuteAsync_StageFailsOnTheSecondKey_ReleasesTheFirstAndTheOuterStageAndRethrows()
    {
        var failure = new LockUnavailableException("account", "inner", TimeSpan.Zero, new InvalidOperationException("down"));
        var pipeline = Build(new KeyStage("outer", _log), new KeyStage("inner", _log) { FailOn = ("b", failure) });

        var ex = await Assert.ThrowsAsync<LockUnavailableException>(async () => await pipeline.ExecuteAsync([A, B], (_, _) => ValueTask.CompletedTask, cancellationToken: Ct));

        Assert.Same(failure, ex);
        Assert.Equal(["acquire outer a", "acquire outer b", "acquire inner a", "acquire inner b", "release inner a rollback", "release outer b rollback", "release outer a rollback"], _log);
    }

    [Fact]
    public async Task ExecuteAsync_FallbackStageUnavailableOnTheSecondKey_GivesBackTheFirstAndContinuesWithTheInnerLock()
    {
        var failure = new LockUnavailableException("account", "redis", TimeSpan.Zero, new InvalidOperationException("down"));
        var pipeline = new LockPipelineBuilder()
            .AddStage(new KeyStage("redis", _log) { FailOn = ("b", failure), Declared = LockStageTraits.Excludes })
            .ContinueIfUnavailable()
            .AddStage(new KeyStage("row", _log) { Declared = LockStageTraits.Excludes })
            .Build();

        await pipeline.ExecuteAsync([B, A], (_, _) => { _log.Add("work"); return ValueTask.CompletedTask; }, cancellationToken: Ct);

        Assert.Equal(
            ["acquire redis a", "acquire redis b", "release redis a rollback", "acquire row a", "acquire row b", "work", "release row b commit", "release row a commit"],
            _log);
    }

    [Fact]
    public async Task ExecuteAsync_OuterStageIssuesTokensPerKey_InnerStageAndWorkSeeEachKeysOwnToken()
    {
        var pipeline = Build(new KeyStage("redis", _log) { Tokens = new() { ["a"] = 11, ["b"] = 22 } }, new KeyStage("fence", _log) { LogToken = true });

        var (tokenA, tokenB, single) = await pipeline.ExecuteAsync([B, A], (ctx, _) => ValueTask.FromResult((ctx.GetFencingToken(A), ctx.GetFencingToken(B), Record.Exception(() => ctx.FencingToken))), cancellationToken: Ct);

        Assert.Equal(11, tokenA);
        Assert.Equal(22, tokenB);
        Assert.IsType<InvalidOperationException>(single);
        Assert.Contains("acquire fence a (token 11)", _log);
        Assert.Contains("acquire fence b (token 22)", _log);
        var outsider = await Assert.ThrowsAsync<ArgumentException>(async () =>
            await pipeline.ExecuteAsync([A, B], (ctx, _) => ValueTask.FromResult(ctx.GetFencingToken(C)), cancellationToken: Ct));
        Assert.Contains("is not one of the keys", outsider.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExecuteAsync_KeysAcquiredOneByOne_ShareOneWaitForTheSet()
    {
        var time = new FakeTimeProvider();
        var stage = new KeyStage("slow", _log) { Time = time, TakesPerKey = TimeSpan.FromMilliseconds(300) };
        var pipeline = new LockPipelineBuilder { TimeProvider = time, WaitTimeout = TimeSpan.FromSeconds(1) }.AddStage(stage).Build();

        await pipeline.ExecuteAsync([A, B, C], (_, _) => ValueTask.CompletedTask, cancellationToken: Ct);

        Assert.Equal([TimeSpan.FromMilliseconds(1000), TimeSpan.FromMilliseconds(700), TimeSpan.FromMilliseconds(400)], stage.Waits);
    }

    private static LockPipeline Build(params LockStage[] stages)
    {
        var builder = new LockPipelineBuilder();
        foreach (var stage in stages)
        {
            builder.AddStage(stage);
        }

        return builder.Build();
    }

    /// <summary>A fake stage that logs each key it acquires; it can time out or fail on one id and issue a token per id.</summary>
    private sealed class KeyStage(string name, List<string> log) : LockStage(name)
    {
        public string? TimeOutOn { get; init; }

        public (string Id, Exception Failure)? FailOn { get; init; }

        public Dictionary<string, long>? Tokens { get; init; }

        public bool LogToken { get; init; }

        public LockStageTraits Declared { get; init; }

        public FakeTimeProvider? Time { get; init; }

        public TimeSpan TakesPerKey { get; init; }

        public List<TimeSpan> Waits { get; } = [];

        protected internal override LockStageTraits Traits => Declared;

        public override ValueTask<LockStageHandle?> TryAcquireAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
            => AcquireEachKeyAsync(context, waitTimeout, AcquireKeyAsync, cancellationToken);

        private ValueTask<LockStageHandle?> AcquireKeyAsync(LockContext context, LockKey key, TimeSpan waitTimeout, CancellationToken cancellationToken)
        {
            var id = key.Id;
            Waits.Add(waitTimeout);
            Time?.Advance(TakesPerKey);
            log.Add(LogToken ? $"acquire {Name} {id} (token {context.GetFencingToken(key)?.ToString(CultureInfo.InvariantCulture) ?? "none"})" : $"acquire {Name} {id}");
            if (FailOn is { } fail && fail.Id == id)
            {
                return ValueTask.FromException<LockStageHandle?>(fail.Failure);
            }

            return ValueTask.FromResult<LockStageHandle?>(id == TimeOutOn ? null : new Handle(Name, id, Tokens?.GetValueOrDefault(id), log));
        }

        private sealed class Handle(string stage, string id, long? token, List<string> log) : LockStageHandle
        {
            public override long? FencingToken => token;

            public override ValueTask ReleaseAsync(bool workSucceeded)
            {
                log.Add($"release {stage} {id} {(workSucceeded ? "commit" : "rollback")}");
                return ValueTask.CompletedTask;
            }
        }
    }
}
