using DualLock.Tests.Pipeline;

namespace DualLock.Tests.Stages;

public sealed class ContinueIfUnavailableTests
{
    private static readonly LockKey Key = new("account", "1");
    private readonly List<string> _log = [];

    [Fact]
    public async Task ExecuteAsync_OptionalStageUnavailable_RunsWorkUnderInnerStagesAndReportsSkip()
    {
        var pipeline = new LockPipelineBuilder()
            .AddStage(new RecordingStage("redis", _log) { AcquireFailure = Unavailable() })
            .ContinueIfUnavailable()
            .AddStage(new RecordingStage("row", _log) { DeclaredTraits = LockStageTraits.Excludes })
            .Build();

        var skipped = await pipeline.ExecuteAsync(Key, (ctx, _) => ValueTask.FromResult(ctx.GetFeature<SkippedStages>()?.Names));

        Assert.Equal(["redis"], skipped);
        Assert.Equal(["acquire redis (token seen: none)", "acquire row (token seen: none)", "release row commit"], _log);
    }

    [Fact]
    public async Task ExecuteAsync_StageNotOptional_UnavailableFailsFast()
    {
        var pipeline = new LockPipelineBuilder()
            .AddStage(new RecordingStage("redis", _log) { AcquireFailure = Unavailable() })
            .AddStage(new RecordingStage("row", _log) { DeclaredTraits = LockStageTraits.Excludes })
            .Build();

        await Assert.ThrowsAsync<LockUnavailableException>(async () => await pipeline.ExecuteAsync(Key, (_, _) => ValueTask.CompletedTask));
        Assert.DoesNotContain("acquire row (token seen: none)", _log);
    }

    [Fact]
    public async Task ExecuteAsync_OptionalStageTimesOut_StillThrowsTimeout()
    {
        var pipeline = new LockPipelineBuilder()
            .AddStage(new RecordingStage("redis", _log) { TimeOut = true })
            .ContinueIfUnavailable()
            .AddStage(new RecordingStage("row", _log) { DeclaredTraits = LockStageTraits.Excludes })
            .Build();

        await Assert.ThrowsAsync<LockTimeoutException>(async () => await pipeline.ExecuteAsync(Key, (_, _) => ValueTask.CompletedTask));
    }

    [Fact]
    public async Task AddDual_FallbackDisabled_UnavailableFails()
    {
        var pipeline = new LockPipelineBuilder()
            .AddDual(
                EmptyServices.Instance,
                (b, _) => b.AddStage(new RecordingStage("redis", _log) { AcquireFailure = Unavailable() }),
                (b, _) => b.AddStage(new RecordingStage("row", _log) { DeclaredTraits = LockStageTraits.Excludes }),
                fallbackToDatabase: false)
            .Build();

        await Assert.ThrowsAsync<LockUnavailableException>(async () => await pipeline.ExecuteAsync(Key, (_, _) => ValueTask.CompletedTask));
    }

    [Fact]
    public async Task AddDual_Default_FallsBackToDatabaseStages()
    {
        var pipeline = new LockPipelineBuilder()
            .AddDual(
                EmptyServices.Instance,
                (b, _) => b.AddStage(new RecordingStage("redis", _log) { AcquireFailure = Unavailable() }),
                (b, _) => b.AddStage(new RecordingStage("row", _log) { DeclaredTraits = LockStageTraits.Excludes }))
            .Build();

        await pipeline.ExecuteAsync(Key, (_, _) => ValueTask.CompletedTask);
        Assert.Contains("release row commit", _log);
    }

    [Fact]
    public void AddDual_DatabasePartEmpty_Throws()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => new LockPipelineBuilder { Name = "d" }.AddDual(
            EmptyServices.Instance, (b, _) => b.AddNoLock(), (_, _) => { }));
        Assert.Contains("database part of dual pipeline 'd' added no stage", ex.Message, StringComparison.Ordinal);
    }

    private static LockUnavailableException Unavailable() => new("account", "redis", TimeSpan.FromMilliseconds(5), new IOException("connection refused"));

    private sealed class EmptyServices : IServiceProvider
    {
        public static readonly EmptyServices Instance = new();

        public object? GetService(Type serviceType) => null;
    }
}
