using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace DualLock.Tests.Pipeline;

/// <summary>Giving back a partly taken key set: what fails there is not thrown (the timeout is the answer), but it is not lost either.</summary>
public sealed class KeySetGiveBackTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TryExecuteAsync_SecondKeyTimesOutAndFirstKeysReleaseFails_ReturnsNotAcquiredAndLogsTheReleaseFailure()
    {
        var collector = new FakeLogCollector();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(new FakeLoggerProvider(collector)));
        var stage = new PerKeyStage("redis", busyId: "2", releaseFailure: new InvalidOperationException("ERR script error"));
        var pipeline = new LockPipelineBuilder { Name = "give-back", LoggerFactory = loggerFactory, WaitTimeout = TimeSpan.Zero }.AddStage(stage).Build();

        var attempt = await pipeline.TryExecuteAsync([new LockKey("account", "1"), new LockKey("account", "2")], (_, _) => ValueTask.FromResult(1), cancellationToken: Ct);

        Assert.False(attempt.Acquired);
        var record = Assert.Single(collector.GetSnapshot(), r => r.Exception?.Message == "ERR script error");
        Assert.True(record.Level >= LogLevel.Warning);
        Assert.Contains("'redis'", record.Message, StringComparison.Ordinal);
        Assert.Contains("'account'", record.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExecuteAsync_KeySetSuperseded_EveryKeysHandleIsTold()
    {
        var stage = new PerKeyStage("redis", busyId: null, releaseFailure: null);
        var pipeline = new LockPipelineBuilder { WaitTimeout = TimeSpan.FromSeconds(1) }
            .AddStage(stage)
            .AddStage(new RecordingStage("fence", []) { AcquireFailure = new LockLeaseLostException("account", "fence", TimeSpan.Zero, "the fence holds a later token.") })
            .Build();

        await Assert.ThrowsAsync<LockLeaseLostException>(async () =>
            await pipeline.ExecuteAsync([new LockKey("account", "1"), new LockKey("account", "2")], (_, _) => ValueTask.FromResult(1), cancellationToken: Ct));

        Assert.Equal(["superseded 1", "superseded 2"], stage.Superseded.Order());
    }

    private sealed class PerKeyStage(string name, string? busyId, Exception? releaseFailure) : LockStage(name)
    {
        public List<string> Superseded { get; } = [];

        public override ValueTask<LockStageHandle?> TryAcquireAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
            => AcquireEachKeyAsync(context, waitTimeout, (_, key, _, _) => ValueTask.FromResult<LockStageHandle?>(key.Id == busyId ? null : new Handle(this, key.Id)), cancellationToken);

        private sealed class Handle(PerKeyStage stage, string id) : LockStageHandle
        {
            public override void MarkSuperseded() => stage.Superseded.Add($"superseded {id}");

            public override ValueTask ReleaseAsync(bool workSucceeded)
                => stage.ReleaseFailureFor(id) is { } failure ? ValueTask.FromException(failure) : ValueTask.CompletedTask;
        }

        private Exception? ReleaseFailureFor(string id) => id == "1" ? releaseFailure : null;
    }
}
