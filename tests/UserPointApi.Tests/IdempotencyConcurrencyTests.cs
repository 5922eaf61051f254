using System.Net;
using UserPointApi.Tests.Infrastructure;

namespace UserPointApi.Tests;

/// <summary>
/// Duplicates of one request arriving at the same moment on two instances: the database's unique key
/// picks one to execute; every other copy waits (bounded) and replays its response.
/// </summary>
public sealed class IdempotencyConcurrencyTests(SharedDatabaseFixture fixture) : IClassFixture<SharedDatabaseFixture>
{
    private const int Copies = 20;

    [Theory]
    [InlineData("dual")]
    [InlineData("atomic")]
    [InlineData("combined")]
    public async Task ConcurrentDuplicates_OnTwoInstances_ExecuteOnceAndReplay(string strategy)
    {
        await using var cluster = await ApiCluster.StartAsync(fixture.Database.ConnectionString, 2, new Dictionary<string, string>
        {
            ["Locking__Strategy"] = strategy,
            ["Locking__RaceWindowMs"] = "20",

            // This test is about duplicates, not lock timeouts: generous waits keep a loaded machine from turning it into one.
            ["Locking__WaitTimeoutMs"] = "30000",
            ["Idempotency__WaitMs"] = "30000",
        });
        var clients = cluster.Clients;
        var userId = await clients[0].CreateUserAsync();
        await clients[0].ChargeAsync(userId, 10_000);
        var use = await clients[0].UseAsync(userId, 1_000);
        var chargeKey = Guid.NewGuid().ToString();
        var useKey = Guid.NewGuid().ToString();
        var refundKey = Guid.NewGuid().ToString();

        using var start = new SemaphoreSlim(0);
        var tasks = Enumerable.Range(0, Copies * 3).Select(async i =>
        {
            await start.WaitAsync();
            var client = clients[i % 2];
            return (i % 3) switch
            {
                0 => ("charge", await client.ChargeAsync(userId, 700, chargeKey)),
                1 => ("use", await client.UseAsync(userId, 300, useKey)),
                _ => ("refund", await client.RefundAsync(userId, use.TransactionId, refundKey)),
            };
        }).ToList();
        start.Release(tasks.Count);
        var results = await Task.WhenAll(tasks);

        foreach (var group in results.GroupBy(r => r.Item1))
        {
            var responses = group.Select(r => r.Item2).ToList();
            Assert.All(responses, r => Assert.True(r.Status == HttpStatusCode.OK, $"{group.Key}: {(int)r.Status} {r.Body}"));
            Assert.Single(responses.Select(r => r.Body).Distinct());
            Assert.Equal(Copies - 1, responses.Count(r => r.Headers.Contains("Idempotency-Replayed")));
        }

        // 10,000 - 1,000 + 700 - 300 + 1,000: each key executed exactly once.
        var audit = await clients[1].AuditAsync(userId);
        Assert.Equal((10_400L, 10_400L, 5L, true), audit);
    }

    [Theory]
    [InlineData("dual")]
    [InlineData("atomic")]
    [InlineData("optimistic")]
    public async Task ConcurrentDuplicateTransfers_OnTwoInstances_MovePointsOnce(string strategy)
    {
        await using var cluster = await ApiCluster.StartAsync(fixture.Database.ConnectionString, 2, new Dictionary<string, string>
        {
            ["Locking__Strategy"] = strategy,
            ["Locking__RaceWindowMs"] = "20",
            ["Locking__WaitTimeoutMs"] = "30000",
            ["Idempotency__WaitMs"] = "30000",
        });
        var clients = cluster.Clients;
        var from = await clients[0].CreateUserAsync();
        var to = await clients[0].CreateUserAsync();
        await clients[0].ChargeAsync(from, 10_000);
        var key = Guid.NewGuid().ToString();

        using var start = new SemaphoreSlim(0);
        var tasks = Enumerable.Range(0, Copies).Select(async i =>
        {
            await start.WaitAsync();
            return await clients[i % 2].TransferAsync(from, to, 700, key);
        }).ToList();
        start.Release(tasks.Count);
        var responses = await Task.WhenAll(tasks);

        Assert.All(responses, r => Assert.True(r.Status == HttpStatusCode.OK, $"{(int)r.Status} {r.Body}"));
        Assert.Single(responses.Select(r => r.Body).Distinct());
        Assert.Equal(Copies - 1, responses.Count(r => r.Headers.Contains("Idempotency-Replayed")));
        Assert.Equal((9_300L, 9_300L, 2L, true), await clients[1].AuditAsync(from));
        Assert.Equal((700L, 700L, 1L, true), await clients[1].AuditAsync(to));
    }

    [Fact]
    public async Task ConcurrentSameKeyDifferentBodies_OneExecutesOthersConflict()
    {
        await using var cluster = await ApiCluster.StartAsync(fixture.Database.ConnectionString, 2, new Dictionary<string, string> { ["Locking__Strategy"] = "dual" });
        var clients = cluster.Clients;
        var userId = await clients[0].CreateUserAsync();
        var key = Guid.NewGuid().ToString();

        using var start = new SemaphoreSlim(0);
        var tasks = Enumerable.Range(1, 10).Select(async amount =>
        {
            await start.WaitAsync();
            return await clients[amount % 2].ChargeAsync(userId, amount, key);
        }).ToList();
        start.Release(tasks.Count);
        var results = await Task.WhenAll(tasks);

        var winner = Assert.Single(results, r => r.Status == HttpStatusCode.OK);
        Assert.All(results.Where(r => r != winner), r => Assert.Equal((HttpStatusCode.Conflict, "IDEMPOTENCY_CONFLICT"), (r.Status, r.Code)));
        Assert.Equal((winner.Amount, winner.Amount, 1L, true), await clients[1].AuditAsync(userId));
    }
}
