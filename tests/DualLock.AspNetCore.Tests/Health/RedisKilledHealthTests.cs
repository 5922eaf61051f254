using System.Diagnostics;
using DualLock.IntegrationTests;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace DualLock.AspNetCore.Tests.Health;

/// <summary>
/// The chaos case, on a redis-server of the test's own (SIGKILLed and restarted by pid; the shared servers are never
/// touched): the dual strategy's check turns Degraded and the distributed one's Unhealthy, and both come back.
/// </summary>
[Collection(nameof(RedisKilledHealthTests))]
[CollectionDefinition(nameof(RedisKilledHealthTests), DisableParallelization = true)]
public sealed class RedisKilledHealthTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task HealthChecks_RedisKilledThenRestarted_DualDegradedDistributedUnhealthyThenBothHealthy()
    {
        await using var redis = await PrivateRedisServer.StartAsync();
        await using var app = await TestApp.StartAsync(
            b =>
            {
                b.Services.AddDualLock()
                    .AddRedis(redis.Endpoint, o => o.OperationTimeout = TimeSpan.FromMilliseconds(500))
                    .AddDualStrategy("dual", (p, _) => p.AddInProcessLock())
                    .AddDistributedStrategy("distributed", (p, _) => p.AddInProcessLock());
                b.Services.AddHealthChecks().AddDualLock("dual").AddDualLock("distributed");
            },
            a =>
            {
                a.MapHealthChecks("/health");
                a.MapPost("/dual/{id}", (string id) => "charged").WithLock("dual", "health-point", "id");
            });
        var health = app.Services.GetRequiredService<HealthCheckService>();
        await AwaitAsync(health, HealthStatus.Healthy, HealthStatus.Healthy);
        var healthy = await app.Client.GetAsync("/health", Ct);
        Assert.Equal((System.Net.HttpStatusCode.OK, "Healthy"), (healthy.StatusCode, await healthy.Content.ReadAsStringAsync(Ct)));

        await redis.StopAsync(); // SIGKILL
        await AwaitAsync(health, HealthStatus.Degraded, HealthStatus.Unhealthy);
        var unhealthy = await app.Client.GetAsync("/health", Ct); // the endpoint reports the worst check
        Assert.Equal((System.Net.HttpStatusCode.ServiceUnavailable, "Unhealthy"), (unhealthy.StatusCode, await unhealthy.Content.ReadAsStringAsync(Ct)));
        var fallback = await app.Client.PostAsync("/dual/1", null, Ct);
        Assert.Equal(System.Net.HttpStatusCode.OK, fallback.StatusCode); // Degraded is true: dual still locks, on its inner lock

        await redis.RestartAsync();
        await AwaitAsync(health, HealthStatus.Healthy, HealthStatus.Healthy);
    }

    private static async Task AwaitAsync(HealthCheckService health, HealthStatus dual, HealthStatus distributed)
    {
        var clock = Stopwatch.StartNew();
        HealthReport report;
        do
        {
            report = await health.CheckHealthAsync(Ct);
            if (report.Entries["duallock-dual"].Status == dual && report.Entries["duallock-distributed"].Status == distributed)
            {
                return;
            }

            await Task.Delay(100, Ct);
        }
        while (clock.Elapsed < Patience);

        Assert.Fail($"After {Patience.TotalSeconds:0} s: dual {report.Entries["duallock-dual"].Status} ({report.Entries["duallock-dual"].Description}), distributed {report.Entries["duallock-distributed"].Status} ({report.Entries["duallock-distributed"].Description}); expected {dual} and {distributed}.");
    }
}
