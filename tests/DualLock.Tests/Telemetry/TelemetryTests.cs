using System.Diagnostics;
using DualLock.Telemetry;
using DualLock.Tests.Pipeline;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace DualLock.Tests.Telemetry;

public sealed class TelemetryTests
{
    [Fact]
    public async Task ExecuteAsync_Acquired_RecordsAcquireAndHoldDurationWithStageAndOutcome()
    {
        var pipelineName = $"telemetry-{Guid.NewGuid():N}";
        using var acquire = new MetricCollector<double>(null, DualLockTelemetry.Name, "duallock.acquire.duration");
        using var hold = new MetricCollector<double>(null, DualLockTelemetry.Name, "duallock.hold.duration");
        var pipeline = new LockPipelineBuilder { Name = pipelineName }.AddInProcessLock().Build();

        await pipeline.ExecuteAsync(new LockKey("account", "1"), (_, _) => ValueTask.CompletedTask);

        var measurement = Assert.Single(acquire.GetMeasurementSnapshot(), m => Equals(m.Tags[DualLockTelemetry.PipelineTag], pipelineName));
        Assert.Equal("in-process", measurement.Tags[DualLockTelemetry.StageTag]);
        Assert.Equal(AcquireOutcome.Acquired, measurement.Tags[DualLockTelemetry.OutcomeTag]);
        Assert.True(measurement.Value >= 0);
        Assert.Single(hold.GetMeasurementSnapshot(), m => Equals(m.Tags[DualLockTelemetry.PipelineTag], pipelineName));
    }

    [Fact]
    public async Task ExecuteAsync_Timeout_RecordsTimeoutOutcomeAndContention()
    {
        var pipelineName = $"telemetry-{Guid.NewGuid():N}";
        using var acquire = new MetricCollector<double>(null, DualLockTelemetry.Name, "duallock.acquire.duration");
        using var contended = new MetricCollector<long>(null, DualLockTelemetry.Name, "duallock.acquire.contended");
        var pipeline = new LockPipelineBuilder { Name = pipelineName, WaitTimeout = TimeSpan.FromMilliseconds(20) }.AddInProcessLock().Build();
        var key = new LockKey("account", "1");
        var holder = await HeldLock.TakeAsync(pipeline, key);

        await Assert.ThrowsAsync<LockTimeoutException>(async () => await pipeline.ExecuteAsync(key, (_, _) => ValueTask.CompletedTask));
        await holder.ReleaseAsync();

        Assert.Contains(acquire.GetMeasurementSnapshot(), m => Equals(m.Tags[DualLockTelemetry.PipelineTag], pipelineName)
            && Equals(m.Tags[DualLockTelemetry.OutcomeTag], AcquireOutcome.Timeout));
        Assert.Contains(contended.GetMeasurementSnapshot(), m => Equals(m.Tags[DualLockTelemetry.PipelineTag], pipelineName));
    }

    [Fact]
    public async Task ExecuteAsync_LeaseLost_CountsLeaseLost()
    {
        var pipelineName = $"telemetry-{Guid.NewGuid():N}";
        using var lost = new MetricCollector<long>(null, DualLockTelemetry.Name, "duallock.lease.lost");
        using var lease = new CancellationTokenSource();
        var pipeline = new LockPipelineBuilder { Name = pipelineName }
            .AddStage(new DualLock.Tests.Pipeline.RecordingStage("redis", []) { Lease = lease.Token }).Build();

        // The work ignores its token and returns: the call still fails, since the lock did not protect all of it.
        await Assert.ThrowsAsync<LockLeaseLostException>(async () => await pipeline.ExecuteAsync(new LockKey("account", "1"), async (_, _) => await lease.CancelAsync()));

        var measurement = Assert.Single(lost.GetMeasurementSnapshot(), m => Equals(m.Tags[DualLockTelemetry.PipelineTag], pipelineName));
        Assert.Equal("redis", measurement.Tags[DualLockTelemetry.StageTag]);
    }

    [Fact]
    public async Task ExecuteAsync_WithListener_StartsOneActivityPerStageAcquire()
    {
        var pipelineName = $"telemetry-{Guid.NewGuid():N}";
        var activities = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == DualLockTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                if (Equals(a.GetTagItem(DualLockTelemetry.PipelineTag), pipelineName) && a.OperationName == DualLockTelemetry.AcquireSpan)
                {
                    lock (activities)
                    {
                        activities.Add(a);
                    }
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        var pipeline = new LockPipelineBuilder { Name = pipelineName }.AddInProcessLock().AddNoLock().Build();

        await pipeline.ExecuteAsync(new LockKey("account", "1"), (_, _) => ValueTask.CompletedTask);

        Assert.Equal(["in-process", "none"], activities.Select(a => (string?)a.GetTagItem(DualLockTelemetry.StageTag)));
        Assert.All(activities, a => Assert.Equal("duallock.acquire", a.OperationName));
        Assert.All(activities, a => Assert.Equal("account", a.GetTagItem(DualLockTelemetry.ResourceTag)));
    }
}
