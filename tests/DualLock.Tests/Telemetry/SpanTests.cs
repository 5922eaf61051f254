using System.Diagnostics;
using DualLock.Telemetry;

namespace DualLock.Tests.Telemetry;

[CollectionDefinition(nameof(ActivityListeners), DisableParallelization = true)]
public sealed class ActivityListeners;

/// <summary>
/// The spans of one execution: an acquire per stage, the held section around the work, a release per stage. In a
/// collection of its own that runs alone, so "nobody listens" is true while the no-listener test runs.
/// </summary>
[Collection(nameof(ActivityListeners))]
public sealed class SpanTests
{
    private static readonly LockKey Key = new("account", "1");

    [Fact]
    public async Task Execute_WithListener_AcquireHoldReleaseSpansAndTheWorkIsTheHoldsChild()
    {
        using var spans = new Spans();
        var pipeline = new LockPipelineBuilder { Name = spans.Pipeline }.AddInProcessLock().AddNoLock().Build();
        Activity? current = null;

        await pipeline.ExecuteAsync(Key, (_, _) =>
        {
            current = Activity.Current;
            return ValueTask.CompletedTask;
        });

        var all = spans.Stopped;
        Assert.Equal(
            ["duallock.acquire in-process acquired", "duallock.acquire none acquired", "duallock.hold - returned", "duallock.release none released", "duallock.release in-process released"],
            all.Select(a => $"{a.OperationName} {a.GetTagItem(DualLockTelemetry.StageTag) ?? "-"} {a.GetTagItem(DualLockTelemetry.OutcomeTag)}"));
        var hold = Assert.Single(all, a => a.OperationName == DualLockTelemetry.HoldSpan);
        Assert.Same(hold, current);
        Assert.Equal("account", hold.GetTagItem(DualLockTelemetry.ResourceTag));
        Assert.All(all, a => Assert.Equal(ActivityStatusCode.Unset, a.Status));
        Assert.All(all.Where(a => a.OperationName == DualLockTelemetry.ReleaseSpan), a => Assert.Equal(true, a.GetTagItem(DualLockTelemetry.WorkSucceededTag)));
        Assert.All(all, a => Assert.DoesNotContain(a.TagObjects, t => Equals(t.Value, Key.Id)));
    }

    [Fact]
    public async Task Execute_WorkThrows_HoldFailedAndStagesReleasedAsFailed()
    {
        using var spans = new Spans();
        var pipeline = new LockPipelineBuilder { Name = spans.Pipeline }.AddInProcessLock().Build();

        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await pipeline.ExecuteAsync(Key, (_, _) => throw new InvalidOperationException("work failed")));

        var hold = Assert.Single(spans.Stopped, a => a.OperationName == DualLockTelemetry.HoldSpan);
        Assert.Equal(HoldOutcome.Failed, hold.GetTagItem(DualLockTelemetry.OutcomeTag));
        Assert.Equal(ActivityStatusCode.Error, hold.Status);
        var release = Assert.Single(spans.Stopped, a => a.OperationName == DualLockTelemetry.ReleaseSpan);
        Assert.Equal(false, release.GetTagItem(DualLockTelemetry.WorkSucceededTag));
        Assert.Equal(ReleaseOutcome.Released, release.GetTagItem(DualLockTelemetry.OutcomeTag));
    }

    [Fact]
    public async Task Execute_Timeout_AcquireSpanTimedOutAndNoHold()
    {
        using var spans = new Spans();
        var pipeline = new LockPipelineBuilder { Name = spans.Pipeline }.AddInProcessLock().Build();
        var entered = new TaskCompletionSource();
        var leave = new TaskCompletionSource();
        var holder = pipeline.ExecuteAsync(Key, async (_, _) =>
        {
            entered.SetResult();
            await leave.Task;
        }).AsTask();
        await entered.Task;

        Assert.False(await pipeline.TryExecuteAsync(Key, (_, _) => ValueTask.CompletedTask, TimeSpan.Zero));
        leave.SetResult();
        await holder;

        var acquires = spans.Stopped.Where(a => a.OperationName == DualLockTelemetry.AcquireSpan).ToList();
        var timedOut = Assert.Single(acquires, a => Equals(a.GetTagItem(DualLockTelemetry.OutcomeTag), AcquireOutcome.Timeout));
        Assert.Equal(ActivityStatusCode.Error, timedOut.Status);
        Assert.Single(spans.Stopped, a => a.OperationName == DualLockTelemetry.HoldSpan); // the holder's only
    }

    [Fact]
    public async Task Execute_LeaseLostWhileHeld_HoldSpanSaysSo()
    {
        using var spans = new Spans();
        using var lease = new CancellationTokenSource();
        var pipeline = new LockPipelineBuilder { Name = spans.Pipeline }
            .AddStage(new DualLock.Tests.Pipeline.RecordingStage("redis", []) { Lease = lease.Token })
            .Build();

        await Assert.ThrowsAsync<LockLeaseLostException>(async () => await pipeline.ExecuteAsync(Key, async (_, _) => await lease.CancelAsync()));

        var hold = Assert.Single(spans.Stopped, a => a.OperationName == DualLockTelemetry.HoldSpan);
        Assert.Equal(HoldOutcome.LeaseLost, hold.GetTagItem(DualLockTelemetry.OutcomeTag));
    }

    [Fact]
    public async Task Execute_NobodyListens_NoActivityIsCreated()
    {
        Assert.False(DualLockTelemetry.ActivitySource.HasListeners());
        var pipeline = new LockPipelineBuilder { Name = "no-listener" }.AddInProcessLock().Build();

        var current = await pipeline.ExecuteAsync(Key, (_, _) => ValueTask.FromResult(Activity.Current));

        Assert.Null(current);
    }

    /// <summary>Records the stopped spans of one pipeline (its own name), in the order they stopped.</summary>
    private sealed class Spans : IDisposable
    {
        private readonly List<Activity> _stopped = [];
        private readonly ActivityListener _listener;

        public Spans()
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == DualLockTelemetry.Name,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = a =>
                {
                    if (Equals(a.GetTagItem(DualLockTelemetry.PipelineTag), Pipeline))
                    {
                        lock (_stopped)
                        {
                            _stopped.Add(a);
                        }
                    }
                },
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public string Pipeline { get; } = $"spans-{Guid.NewGuid():N}";

        public IReadOnlyList<Activity> Stopped
        {
            get
            {
                lock (_stopped)
                {
                    return _stopped.ToArray();
                }
            }
        }

        public void Dispose() => _listener.Dispose();
    }
}
