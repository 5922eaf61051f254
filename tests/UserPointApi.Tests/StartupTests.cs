using UserPointApi.Tests.Infrastructure;

namespace UserPointApi.Tests;

/// <summary>Configuration errors stop the process at start-up with a message, not at the first request.</summary>
public sealed class StartupTests(SharedDatabaseFixture fixture) : IClassFixture<SharedDatabaseFixture>
{
    [Theory]
    [InlineData("Locking__Strategy", "bogus", "Locking strategy 'bogus'")]
    [InlineData("Locking__Endpoints__charge", "1", "Locking strategy '1'")]
    [InlineData("Locking__Endpoints__withdraw", "dual", "Locking:Endpoints:withdraw")]
    [InlineData("Points__MaxCharge", "0", "Points:MaxCharge")]
    [InlineData("Points__DataAccess", "orm", "Points:DataAccess must be raw or ef (was 'orm')")]
    public async Task InvalidConfiguration_FailsAtStartWithMessage(string setting, string value, string message)
    {
        var (exitCode, output) = await ApiProcess.RunToExitAsync(fixture.Database.ConnectionString, new Dictionary<string, string> { [setting] = value });

        Assert.NotEqual(0, exitCode);
        Assert.Contains(message, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EfDataAccess_WithAStrategyItDoesNotRun_FailsAtStartNamingTheSupportedOnes()
    {
        var (exitCode, output) = await ApiProcess.RunToExitAsync(fixture.Database.ConnectionString, new Dictionary<string, string>
        {
            ["Points__DataAccess"] = "ef",
            ["Locking__Strategy"] = "named",
        });

        Assert.NotEqual(0, exitCode);
        Assert.Contains("Points:DataAccess=ef runs charge under none, pessimistic, distributed, dual only; Locking configures named for it.", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OperationScopedKeys_WithALockThatDoesNotSerialiseTheRow_AreRefused()
    {
        var (exitCode, output) = await ApiProcess.RunToExitAsync(fixture.Database.ConnectionString, new Dictionary<string, string>
        {
            ["Locking__Strategy"] = "distributed",
            ["Locking__KeyScope"] = "user-operation",
        });

        Assert.NotEqual(0, exitCode);
        Assert.Contains("Locking:KeyScope 'user-operation'", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OperationScopedKeys_WithDual_StayExact()
    {
        await using var cluster = await ApiCluster.StartAsync(fixture.Database.ConnectionString, 2, new Dictionary<string, string>
        {
            ["Locking__Strategy"] = "dual",
            ["Locking__KeyScope"] = "user-operation",
            ["Locking__RaceWindowMs"] = "5",
            ["Locking__WaitTimeoutMs"] = "30000",
        });
        var userId = await cluster.Clients[0].CreateUserAsync();
        await cluster.Clients[0].ChargeAsync(userId, 100_000);

        var results = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => i % 2 == 0
            ? cluster.Clients[i % 4 / 2].ChargeAsync(userId, 7)
            : cluster.Clients[i % 4 / 2].UseAsync(userId, 3)));

        var expected = 100_000 + results.Select((r, i) => r.Status == System.Net.HttpStatusCode.OK ? (i % 2 == 0 ? 7L : -3L) : 0L).Sum();
        var audit = await cluster.Clients[1].AuditAsync(userId);
        Assert.Equal(expected, audit.Balance);
        Assert.True(audit.Consistent);
    }

    [Fact]
    public async Task PerEndpointStrategies_AreUsedAndReported()
    {
        await using var api = await ApiProcess.StartAsync(fixture.Database.ConnectionString, new Dictionary<string, string>
        {
            ["Locking__Strategy"] = "pessimistic",
            ["Locking__Endpoints__charge"] = "distributed",
            ["Locking__Endpoints__use"] = "atomic",
            ["Logging__LogLevel__UserPointApi"] = "Information",
        });
        var client = new ApiClient(ApiFixture.Http, api.Url);
        var userId = await client.CreateUserAsync();
        await client.ChargeAsync(userId, 100);
        var use = await client.UseAsync(userId, 40);
        await client.RefundAsync(userId, use.TransactionId);
        var metrics = await ApiFixture.Http.GetStringAsync(new Uri(api.Url, "/metrics"));

        Assert.Contains("charge=distributed, use=atomic, refund=pessimistic", api.Output, StringComparison.Ordinal);
        Assert.Contains("duallock_stage=\"redis\"", metrics, StringComparison.Ordinal);
        Assert.Contains("duallock_stage=\"mysql-row-lock\"", metrics, StringComparison.Ordinal);
        Assert.Equal((100L, 100L, 3L, true), await client.AuditAsync(userId));
    }
}
