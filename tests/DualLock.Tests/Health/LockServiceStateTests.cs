namespace DualLock.Tests.Health;

/// <summary>LockPipeline.GetServiceState: what the stages know of their services, summed up per pipeline.</summary>
public sealed class LockServiceStateTests
{
    private static readonly LockServiceOutage Down = new(DateTimeOffset.UnixEpoch, "refused");

    [Fact]
    public void GetServiceState_NoStageKnowsOfAnOutage_IsAvailable()
    {
        var state = new LockPipelineBuilder().AddStage(new MonitoredStage("redis")).AddInProcessLock().Build().GetServiceState();

        Assert.Equal(LockServiceStatus.Available, state.Status);
        Assert.Equal(["redis", "in-process"], state.Stages.Select(s => s.Stage));
        Assert.All(state.Stages, s => Assert.Null(s.Outage));
    }

    [Fact]
    public void GetServiceState_StageDownWithoutFallback_IsUnavailable()
    {
        var redis = new MonitoredStage("redis") { Outage = Down };
        var state = new LockPipelineBuilder { Name = "distributed" }.AddStage(redis).AddInProcessLock().Build().GetServiceState();

        Assert.Equal(LockServiceStatus.Unavailable, state.Status);
        Assert.Equal("distributed", state.Pipeline);
        Assert.Same(Down, state.Stages[0].Outage);
        Assert.False(state.Stages[0].ContinuesIfUnavailable);
    }

    [Fact]
    public void GetServiceState_StageDownThatContinuesIfUnavailable_IsFallingBack()
    {
        var redis = new MonitoredStage("redis") { Outage = Down };
        var state = new LockPipelineBuilder().AddStage(redis).ContinueIfUnavailable().AddInProcessLock().Build().GetServiceState();

        Assert.Equal(LockServiceStatus.FallingBack, state.Status);
        Assert.True(state.Stages[0].ContinuesIfUnavailable);
        Assert.Same(Down, state.Stages[0].Outage);
    }

    [Fact]
    public void GetServiceState_OneFallsBackAnotherCannot_IsUnavailable()
    {
        var outer = new MonitoredStage("redis-a") { Outage = Down };
        var inner = new MonitoredStage("redis-b") { Outage = Down };
        var state = new LockPipelineBuilder().AddStage(outer).ContinueIfUnavailable().AddStage(inner).Build().GetServiceState();

        Assert.Equal(LockServiceStatus.Unavailable, state.Status);
    }

    [Fact]
    public void GetServiceState_ReadsTheStageNow_OutageEndsAndStateFollows()
    {
        var redis = new MonitoredStage("redis") { Outage = Down };
        var pipeline = new LockPipelineBuilder().AddStage(redis).ContinueIfUnavailable().AddInProcessLock().Build();
        Assert.Equal(LockServiceStatus.FallingBack, pipeline.GetServiceState().Status);

        redis.Outage = null;

        Assert.Equal(LockServiceStatus.Available, pipeline.GetServiceState().Status);
    }

    /// <summary>A lock stage whose known outage the test sets; it locks nothing itself.</summary>
    private sealed class MonitoredStage(string name) : LockStage(name), ILockServiceMonitor
    {
        public LockServiceOutage? Outage { get; set; }

        public LockServiceOutage? CurrentOutage => Outage;

        protected internal override LockStageTraits Traits => LockStageTraits.Excludes;

        public override ValueTask<LockStageHandle?> TryAcquireAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
            => ValueTask.FromResult<LockStageHandle?>(new Held());

        private sealed class Held : LockStageHandle
        {
            public override ValueTask ReleaseAsync(bool workSucceeded) => ValueTask.CompletedTask;
        }
    }
}
