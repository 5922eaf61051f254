using System.Net;
using MySqlConnector;
using UserPointApi.Tests.Infrastructure;

namespace UserPointApi.Tests;

/// <summary>
/// Honest 503s with Retry-After when a lock cannot be had or a server is down, nothing changed; and
/// the dual strategy's fallback: Redis down, the row lock alone keeps the writes correct.
/// </summary>
public sealed class OutageTests(SharedDatabaseFixture fixture) : IClassFixture<SharedDatabaseFixture>
{
    [Fact]
    public async Task LockWaitTimeout_Is503LockTimeoutWithRetryAfter_AndLosesNothing()
    {
        await using var api = await ApiProcess.StartAsync(fixture.Database.ConnectionString, new Dictionary<string, string>
        {
            ["Locking__Strategy"] = "local",
            ["Locking__WaitTimeoutMs"] = "50",
            ["Locking__RaceWindowMs"] = "400",
        });
        var client = new ApiClient(ApiFixture.Http, api.Url);
        var userId = await client.CreateUserAsync();

        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => client.ChargeAsync(userId, 10)));

        var timedOut = results.Where(r => r.Status == HttpStatusCode.ServiceUnavailable).ToList();
        Assert.NotEmpty(timedOut);
        Assert.All(timedOut, r => Assert.Equal("LOCK_TIMEOUT", r.Code));
        Assert.All(timedOut, r => Assert.NotNull(r.Headers.RetryAfter));
        var acknowledged = results.Count(r => r.Status == HttpStatusCode.OK);
        Assert.Equal((acknowledged * 10L, acknowledged * 10L, (long)acknowledged, true), await client.AuditAsync(userId));
    }

    [Theory]
    [InlineData("distributed", HttpStatusCode.ServiceUnavailable, "LOCK_UNAVAILABLE")]
    [InlineData("dual", HttpStatusCode.OK, null)]
    public async Task RedisDown_DistributedIs503_DualFallsBackToTheRowLock(string strategy, HttpStatusCode expected, string? code)
    {
        await using var redis = new TcpProxy("127.0.0.1", new Uri("redis://" + Servers.Redis.Split(',')[0]).Port);
        await using var api = await ApiProcess.StartAsync(fixture.Database.ConnectionString, new Dictionary<string, string>
        {
            ["Locking__Strategy"] = strategy,
            ["ConnectionStrings__Redis"] = $"127.0.0.1:{redis.Port},abortConnect=false,connectTimeout=500,syncTimeout=1000",
        });
        var client = new ApiClient(ApiFixture.Http, api.Url);
        var userId = await client.CreateUserAsync();
        Assert.Equal(HttpStatusCode.OK, (await client.ChargeAsync(userId, 100)).Status);

        redis.Cut();

        // One after another: concurrent same-key callers queue in the Redis stage's local queue and, while
        // the first waits out the outage, the others may end as LOCK_TIMEOUT (still 503, still nothing changed).
        var responses = new List<ApiResponse>();
        for (var i = 0; i < 4; i++)
        {
            responses.Add(await client.ChargeAsync(userId, 1));
        }

        using var ready = await ApiFixture.Http.GetAsync(new Uri(api.Url, "/health/ready"));

        Assert.All(responses, r => Assert.True(r.Status == expected && r.Code == code, $"{strategy}: {(int)r.Status} {r.Body}"));
        if (expected != HttpStatusCode.OK)
        {
            Assert.All(responses, r => Assert.NotNull(r.Headers.RetryAfter));
        }

        var acknowledged = responses.Count(r => r.Status == HttpStatusCode.OK);
        Assert.Equal((100L + acknowledged, 100L + acknowledged, 1L + acknowledged, true), await client.AuditAsync(userId));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
    }

    [Fact]
    public async Task DatabaseDown_Is503WithRetryAfter_NotA500()
    {
        var target = new MySqlConnectionStringBuilder(fixture.Database.ConnectionString);
        await using var mySql = new TcpProxy(target.Server, (int)target.Port);
        var viaProxy = new MySqlConnectionStringBuilder(fixture.Database.ConnectionString) { Server = "127.0.0.1", Port = (uint)mySql.Port, ConnectionTimeout = 2 }.ConnectionString;
        await using var api = await ApiProcess.StartAsync(viaProxy, new Dictionary<string, string> { ["Locking__Strategy"] = "pessimistic" });
        var client = new ApiClient(ApiFixture.Http, api.Url);
        var userId = await client.CreateUserAsync();

        mySql.Cut();
        var charge = await client.ChargeAsync(userId, 1);
        var read = await client.SendAsync(HttpMethod.Get, $"/api/v1/user-points/{userId}");
        var create = await client.SendAsync(HttpMethod.Post, "/api/v1/users");

        foreach (var response in new[] { charge, read, create })
        {
            Assert.True(response.Status == HttpStatusCode.ServiceUnavailable, $"{(int)response.Status} {response.Body}\n{api.Output}");
            Assert.Contains(response.Code, new[] { "G_DATABASE_UNAVAILABLE", "LOCK_UNAVAILABLE" });
            Assert.NotNull(response.Headers.RetryAfter);
        }
    }
}
