using System.Net;

namespace UserPointApi.Tests;

/// <summary>
/// The oracle of <see cref="ConcurrencyTests"/> on the EF Core data path (<c>Points:DataAccess=ef</c>): charge and use read
/// and write the balance through a DbContext in the lock's transaction. Exact under each locking strategy it runs; the
/// same callers with no lock lose updates, or the oracle proves nothing about it.
/// </summary>
public sealed class EfDataAccessTests(SharedDatabaseFixture fixture) : IClassFixture<SharedDatabaseFixture>
{
    private static readonly Dictionary<string, string> Ef = new() { ["Points__DataAccess"] = "ef" };

    [Theory]
    [InlineData("pessimistic")]
    [InlineData("dual")]
    [InlineData("distributed")]
    public async Task TwoInstances_EfLockingStrategy_LosesNothing(string strategy)
    {
        var run = await ConcurrencyTests.RunAsync(fixture.Database, strategy, Ef);

        Assert.True(run.Acknowledged >= 50, $"ef {strategy}: only {run.Acknowledged} acknowledged; rejections: {run.Rejections}");
        Assert.Equal(run.Expected, run.Balance);
        Assert.True(run.Consistent, $"ef {strategy}: audit inconsistent (balance {run.Balance}, ledger {run.LedgerSum})");
        Assert.Equal(run.Acknowledged + 1, run.Entries);
    }

    [Fact]
    public async Task TwoInstances_EfNoLock_LosesUpdates()
    {
        var run = await ConcurrencyTests.RunAsync(fixture.Database, "none", Ef);

        Assert.NotEqual(run.Expected, run.Balance);
        Assert.False(run.Consistent, $"ef none: expected an inconsistent audit, got balance {run.Balance} = ledger {run.LedgerSum}");
        Assert.Equal(run.Expected, run.LedgerSum);
    }

    [Fact]
    public async Task EfCharge_UnknownUser_Is404AndWritesNothing()
    {
        var settings = new Dictionary<string, string>(Ef) { ["Locking__Strategy"] = "pessimistic" };
        await using var cluster = await Infrastructure.ApiCluster.StartAsync(fixture.Database.ConnectionString, 1, settings);
        var client = cluster.Clients[0];
        var userId = await client.CreateUserAsync();
        Assert.Equal(HttpStatusCode.OK, (await client.ChargeAsync(userId, 100)).Status);

        var missing = await client.ChargeAsync(Guid.NewGuid().ToString(), 5);
        var overdrawn = await client.UseAsync(userId, 101);

        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
        Assert.Equal(HttpStatusCode.Conflict, overdrawn.Status);
        var audit = await client.AuditAsync(userId);
        Assert.Equal(100, audit.Balance);
        Assert.True(audit.Consistent);
    }
}
