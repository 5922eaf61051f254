using System.Net;
using UserPointApi.Tests.Infrastructure;

namespace UserPointApi.Tests;

/// <summary>
/// The <c>combined</c> strategy on two real API processes: writes queued on one user are applied
/// in one transaction per batch, an overdraft is refused for its own caller only, and the oracle is exact.
/// </summary>
public sealed class CombinedStrategyTests(SharedDatabaseFixture fixture) : IClassFixture<SharedDatabaseFixture>
{
    [Fact]
    public async Task TwoInstances_UsesBeyondTheBalance_RefusesEachOverdraftAloneAndCombinesTheRest()
    {
        await using var cluster = await ApiCluster.StartAsync(fixture.Database.ConnectionString, 2, new Dictionary<string, string>
        {
            ["Locking__Strategy"] = "combined",
            ["Locking__RaceWindowMs"] = "10",
            ["Locking__WaitTimeoutMs"] = "30000",
        });
        var clients = cluster.Clients;
        var userId = await clients[0].CreateUserAsync();
        Assert.Equal(HttpStatusCode.OK, (await clients[0].ChargeAsync(userId, 10_000)).Status);

        using var start = new SemaphoreSlim(0);
        var tasks = Enumerable.Range(0, 100).Select(async i =>
        {
            await start.WaitAsync();
            return await clients[i % 2].UseAsync(userId, 300);
        }).ToList();
        start.Release(tasks.Count);
        var responses = await Task.WhenAll(tasks);

        // 10,000 / 300: exactly 33 uses fit, whatever the order and however they were batched.
        Assert.All(responses, r => Assert.True(
            r.Status == HttpStatusCode.OK || (r.Status == HttpStatusCode.Conflict && r.Code == "USERPOINT_INSUFFICIENT_BALANCE"),
            $"unexpected {(int)r.Status} {r.Body}\n{cluster.Output}"));
        Assert.Equal(33, responses.Count(r => r.Status == HttpStatusCode.OK));
        var audit = await clients[1].AuditAsync(userId);
        Assert.Equal(100, audit.Balance);
        Assert.True(audit.Consistent, $"balance {audit.Balance}, ledger {audit.LedgerSum}");
        Assert.Equal(34, audit.Entries);

        // One batch = one transaction = one timestamp: fewer distinct timestamps than uses proves items were combined.
        var batches = await fixture.Database.ScalarAsync(
            "SELECT COUNT(DISTINCT created_at) FROM point_ledger WHERE user_id = @userId AND type = 'use'", ("userId", userId));
        Assert.True(batches < 33, $"33 uses in {batches} transactions: nothing was combined");
    }
}
