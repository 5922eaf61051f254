using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace DualLock.AspNetCore.Tests.Health;

/// <summary>The mapping from a strategy's service state to its health.</summary>
public sealed class LockStrategyHealthCheckTests
{
    private static readonly LockServiceOutage Down = new(DateTimeOffset.UnixEpoch, "refused");

    [Theory]
    [InlineData(false, false, HealthStatus.Healthy)]
    [InlineData(true, true, HealthStatus.Degraded)]
    [InlineData(true, false, HealthStatus.Unhealthy)]
    public void Result_ServiceState_MapsToHealth(bool redisDown, bool fallsBack, HealthStatus expected)
    {
        var result = LockStrategyHealthCheck.Result(State(redisDown ? Down : null, fallsBack), HealthStatus.Unhealthy);

        Assert.Equal(expected, result.Status);
        Assert.Equal(redisDown, result.Data.ContainsKey("redis"));
        if (redisDown)
        {
            Assert.Contains("refused", (string)result.Data["redis"], StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Result_CannotLock_AnswersTheRegistrationsFailureStatus()
    {
        var result = LockStrategyHealthCheck.Result(State(Down, fallsBack: false), HealthStatus.Degraded);

        Assert.Equal(HealthStatus.Degraded, result.Status);
        Assert.Contains("cannot lock", result.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddDualLock_UnknownStrategy_FailsThatCheckOnly()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddDualLock().AddInProcessStrategy("local");
        services.AddHealthChecks().AddDualLock("local").AddDualLock("missing");
        await using var provider = services.BuildServiceProvider();

        var report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HealthStatus.Healthy, report.Entries["duallock-local"].Status);
        Assert.Equal(HealthStatus.Unhealthy, report.Entries["duallock-missing"].Status);
    }

    private static LockServiceState State(LockServiceOutage? outage, bool fallsBack)
    {
        var builder = new LockPipelineBuilder { Name = "charge" }.AddStage(new MonitoredStage("redis", outage));
        if (fallsBack)
        {
            builder.ContinueIfUnavailable();
        }

        return builder.AddInProcessLock().Build().GetServiceState();
    }

    private sealed class MonitoredStage(string name, LockServiceOutage? outage) : LockStage(name), ILockServiceMonitor
    {
        public LockServiceOutage? CurrentOutage => outage;

        protected override LockStageTraits Traits => LockStageTraits.Excludes;

        public override ValueTask<LockStageHandle?> TryAcquireAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
            => throw new NotSupportedException("only its state is read");
    }
}
