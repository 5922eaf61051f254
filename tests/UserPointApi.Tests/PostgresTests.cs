using System.Net;
using Npgsql;
using UserPointApi.Tests.Infrastructure;

namespace UserPointApi.Tests;

/// <summary>A PostgreSQL database shared by the <c>Database=postgres</c> runs (each run uses its own user).</summary>
public sealed class PostgresDatabaseFixture : IAsyncLifetime
{
    public PostgresTestDatabase Database { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Database = await PostgresTestDatabase.CreateAsync();

    public async ValueTask DisposeAsync()
    {
        if (Database is not null)
        {
            await Database.DisposeAsync();
        }
    }
}

/// <summary>
/// The sample on PostgreSQL (<c>Database=postgres</c>): the same oracle as <see cref="ConcurrencyTests"/> on two real API
/// processes for every strategy with a Postgres counterpart, the negative control losing, and bad input refused with
/// nothing stored. The MySQL connection string the processes get is a dead one, so nothing here can pass on MySQL.
/// </summary>
public sealed class PostgresTests(PostgresDatabaseFixture fixture) : IClassFixture<PostgresDatabaseFixture>
{
    // Nothing listens there: a Postgres-configured API that touched MySQL would fail.
    private const string DeadMySql = "Server=127.0.0.1;Port=1;User ID=nobody;Password=none;Database=none;Connection Timeout=1";

    /// <summary>Every locking strategy of <see cref="AvailableStrategies"/> but redlock (its three extra Redis servers are optional).</summary>
    public static TheoryData<string> LockingStrategies => new(AvailableStrategies.Locking.Where(s => s != "redlock"));

    [Theory]
    [MemberData(nameof(LockingStrategies))]
    public async Task Postgres_TwoInstances_LockingStrategy_LosesNothing(string strategy)
    {
        var run = await ConcurrencyTests.RunAsync(DeadMySql, strategy, fixture.Database.Settings);

        Assert.True(run.Acknowledged >= 50, $"{strategy}: only {run.Acknowledged} acknowledged; rejections: {run.Rejections}");
        Assert.Equal(run.Expected, run.Balance);
        Assert.True(run.Consistent, $"{strategy}: audit inconsistent (balance {run.Balance}, ledger {run.LedgerSum})");
        Assert.Equal(run.Acknowledged + 1, run.Entries);
    }

    [Fact]
    public async Task Postgres_TwoInstances_NoLock_LosesUpdates()
    {
        var run = await ConcurrencyTests.RunAsync(DeadMySql, "none", fixture.Database.Settings);

        Assert.NotEqual(run.Expected, run.Balance);
        Assert.False(run.Consistent, $"expected an inconsistent audit, got balance {run.Balance} = ledger {run.LedgerSum}");
        Assert.Equal(run.Expected, run.LedgerSum);
    }

    [Theory]
    [InlineData("/charge", "{\"amount\":-1}", "USERPOINT_INVALID_CHARGE")]
    [InlineData("/charge", "{\"amount\":\"100\"}", "G_INVALID_ARG")]
    [InlineData("/use", "{\"amount\":1.5}", "G_INVALID_ARG")]
    [InlineData("/use", "{\"amount\":999}", "USERPOINT_INSUFFICIENT_BALANCE")]
    [InlineData("/refund", "{\"transactionId\":\"not-an-id\"}", "G_INVALID_ARG")]
    public async Task Postgres_BadRequest_Gets4xx_AndChangesNothing(string path, string body, string code)
    {
        await using var api = await ApiProcess.StartAsync(DeadMySql, fixture.Database.Settings);
        var client = new ApiClient(ApiFixture.Http, api.Url);
        var userId = await client.CreateUserAsync();
        Assert.Equal(HttpStatusCode.OK, (await client.ChargeAsync(userId, 500)).Status);
        var before = await SnapshotAsync(userId);

        var response = await client.SendAsync(HttpMethod.Post, $"/api/v1/user-points/{userId}{path}", body);

        Assert.True((int)response.Status is >= 400 and < 500, $"{(int)response.Status} {response.Body}");
        Assert.Equal(code, response.Code);
        Assert.Equal(before, await SnapshotAsync(userId));
    }

    [Fact]
    public async Task Postgres_Transfer_MovesPointsAndRefusesAnOverdraft()
    {
        await using var api = await ApiProcess.StartAsync(DeadMySql, fixture.Database.Settings);
        var client = new ApiClient(ApiFixture.Http, api.Url);
        var from = await client.CreateUserAsync();
        var to = await client.CreateUserAsync();
        await client.ChargeAsync(from, 100);

        var moved = await client.TransferAsync(from, to, 40);
        var refused = await client.TransferAsync(from, to, 61);

        Assert.Equal(HttpStatusCode.OK, moved.Status);
        Assert.Equal(HttpStatusCode.Conflict, refused.Status);
        Assert.Equal("USERPOINT_INSUFFICIENT_BALANCE", refused.Code);
        Assert.Equal(60, await client.BalanceAsync(from));
        Assert.Equal(40, await client.BalanceAsync(to));
        Assert.Equal(60, await fixture.Database.ScalarAsync("SELECT amount FROM user_points WHERE user_id = @u", ("@u", from)));
    }

    [Theory]
    [InlineData("pessimistic")]
    [InlineData("dual")]
    public async Task Postgres_DatabaseDown_Is503WithRetryAfter_NotA500_AndLosesNothing(string strategy)
    {
        var target = new NpgsqlConnectionStringBuilder(fixture.Database.ConnectionString);
        await using var postgres = new TcpProxy(target.Host!, target.Port);
        var viaProxy = new NpgsqlConnectionStringBuilder(fixture.Database.ConnectionString) { Host = "127.0.0.1", Port = postgres.Port, Timeout = 2 }.ConnectionString;
        var settings = new Dictionary<string, string>(fixture.Database.Settings) { ["ConnectionStrings__Postgres"] = viaProxy, ["Locking__Strategy"] = strategy };
        await using var api = await ApiProcess.StartAsync(DeadMySql, settings);
        var client = new ApiClient(ApiFixture.Http, api.Url);
        var userId = await client.CreateUserAsync();
        Assert.Equal(HttpStatusCode.OK, (await client.ChargeAsync(userId, 500)).Status);
        var before = await SnapshotAsync(userId);

        postgres.Cut();
        var charge = await client.ChargeAsync(userId, 1);
        var use = await client.SendAsync(HttpMethod.Post, $"/api/v1/user-points/{userId}/use", "{\"amount\":1}");
        var read = await client.SendAsync(HttpMethod.Get, $"/api/v1/user-points/{userId}");
        var create = await client.SendAsync(HttpMethod.Post, "/api/v1/users");

        foreach (var response in new[] { charge, use, read, create })
        {
            Assert.True(response.Status == HttpStatusCode.ServiceUnavailable, $"{strategy}: {(int)response.Status} {response.Body}\n{api.Output}");
            Assert.Contains(response.Code, new[] { "G_DATABASE_UNAVAILABLE", "LOCK_UNAVAILABLE" });
            Assert.NotNull(response.Headers.RetryAfter);
        }

        Assert.Equal(before, await SnapshotAsync(userId));
    }

    [Fact]
    public async Task Postgres_WithEfDataAccess_FailsAtStartWithMessage()
    {
        var settings = new Dictionary<string, string>(fixture.Database.Settings) { ["Points__DataAccess"] = "ef" };

        var (exitCode, output) = await ApiProcess.RunToExitAsync(DeadMySql, settings);

        Assert.NotEqual(0, exitCode);
        Assert.Contains("Points:DataAccess=ef runs on MySQL only; with Database=postgres use Points:DataAccess=raw.", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownDatabase_FailsAtStartWithMessage()
    {
        var (exitCode, output) = await ApiProcess.RunToExitAsync(DeadMySql, new Dictionary<string, string> { ["Database"] = "oracle" });

        Assert.NotEqual(0, exitCode);
        Assert.Contains("Database must be mysql or postgres (was 'oracle').", output, StringComparison.Ordinal);
    }

    private async Task<(long Balance, long Version, long Entries, long Keys)> SnapshotAsync(string userId)
    {
        var db = fixture.Database;
        var user = ("@u", (object)userId);
        return (
            await db.ScalarAsync("SELECT amount FROM user_points WHERE user_id = @u", user),
            await db.ScalarAsync("SELECT version FROM user_points WHERE user_id = @u", user),
            await db.ScalarAsync("SELECT COUNT(*) FROM point_ledger WHERE user_id = @u", user),
            await db.ScalarAsync("SELECT COUNT(*) FROM idempotency_keys WHERE user_id = @u", user));
    }
}
