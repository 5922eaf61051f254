using System.Net;
using UserPointApi.Tests.Infrastructure;

namespace UserPointApi.Tests;

/// <summary>A database shared by the strategies' runs (each run uses its own user).</summary>
public sealed class SharedDatabaseFixture : IAsyncLifetime
{
    public TestDatabase Database { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Database = await TestDatabase.CreateAsync();

    public async ValueTask DisposeAsync() => await Database.DisposeAsync();
}

/// <summary>
/// The oracle of the comparisons, on two real API processes: 200 concurrent charges and uses on one
/// user, split across the instances. Under a locking strategy the final balance equals the initial
/// balance plus every acknowledged change and the audit is consistent; the negative controls
/// (<c>none</c>, and <c>local</c> across two instances) must show the loss, or the oracle proves nothing.
/// Every strategy gets the same artificial race window (<c>Locking:RaceWindowMs</c>) so the loss is
/// reliable and the comparison fair.
/// </summary>
public sealed class ConcurrencyTests(SharedDatabaseFixture fixture) : IClassFixture<SharedDatabaseFixture>
{
    private const int Operations = 200;
    private const long Initial = 1_000_000;

    public static TheoryData<string> LockingStrategies => new(AvailableStrategies.Locking);

    public static TheoryData<string> NegativeControls => new("none", "local");

    [Theory]
    [MemberData(nameof(LockingStrategies))]
    public async Task TwoInstances_LockingStrategy_LosesNothing(string strategy)
    {
        var run = await RunAsync(strategy);

        Assert.True(run.Acknowledged >= Operations / 4, $"{strategy}: only {run.Acknowledged} of {Operations} acknowledged; rejections: {run.Rejections}");
        Assert.Equal(run.Expected, run.Balance);
        Assert.True(run.Consistent, $"{strategy}: audit inconsistent (balance {run.Balance}, ledger {run.LedgerSum})");
        Assert.Equal(run.Acknowledged + 1, run.Entries);
    }

    [Theory]
    [MemberData(nameof(NegativeControls))]
    public async Task TwoInstances_NegativeControl_LosesUpdates(string strategy)
    {
        var run = await RunAsync(strategy);

        // The ledger keeps every acknowledged entry; the racy absolute write loses some of them from the balance.
        Assert.NotEqual(run.Expected, run.Balance);
        Assert.False(run.Consistent, $"{strategy}: expected an inconsistent audit, got balance {run.Balance} = ledger {run.LedgerSum}");
        Assert.Equal(run.Expected, run.LedgerSum);
    }

    private Task<RunResult> RunAsync(string strategy) => RunAsync(fixture.Database, strategy);

    /// <summary>One run of the oracle: two instances, <see cref="Operations"/> charges and uses on one user; <paramref name="extra"/> adds settings (the EF Core path).</summary>
    internal static Task<RunResult> RunAsync(TestDatabase database, string strategy, IReadOnlyDictionary<string, string>? extra = null)
        => RunAsync(database.ConnectionString, strategy, extra);

    /// <summary>The same run on the database the settings name (<paramref name="mySql"/> is the MySQL one, unused under <c>Database=postgres</c>).</summary>
    internal static async Task<RunResult> RunAsync(string mySql, string strategy, IReadOnlyDictionary<string, string>? extra = null)
    {
        var settings = new Dictionary<string, string>(extra ?? new Dictionary<string, string>())
        {
            ["Locking__Strategy"] = strategy,
            ["Locking__RaceWindowMs"] = "10",
            ["Locking__WaitTimeoutMs"] = "30000",
            ["Locking__OptimisticMaxAttempts"] = "500",
        };
        await using var cluster = await ApiCluster.StartAsync(mySql, 2, settings);
        var clients = cluster.Clients;
        var userId = await clients[0].CreateUserAsync();
        Assert.Equal(HttpStatusCode.OK, (await clients[0].ChargeAsync(userId, Initial)).Status);

        var random = new Random(42);
        var plan = Enumerable.Range(0, Operations).Select(i => (Use: i % 4 == 3, Amount: (long)random.Next(100, 1000))).ToArray();
        using var start = new SemaphoreSlim(0);
        var tasks = plan.Select(async (op, i) =>
        {
            await start.WaitAsync();
            var client = clients[i % clients.Count];
            var response = op.Use ? await client.UseAsync(userId, op.Amount) : await client.ChargeAsync(userId, op.Amount);
            Assert.True(response.Status is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"{strategy}: unexpected {(int)response.Status} {response.Body}\n{cluster.Output}");
            return (op, response);
        }).ToList();
        start.Release(Operations);
        var results = await Task.WhenAll(tasks);

        var acknowledged = results.Where(r => r.response.Status == HttpStatusCode.OK).ToList();
        var expected = Initial + acknowledged.Sum(r => r.op.Use ? -r.op.Amount : r.op.Amount);
        var audit = await clients[1].AuditAsync(userId);
        var rejections = string.Join(", ", results.Where(r => r.response.Status != HttpStatusCode.OK).GroupBy(r => r.response.Code).Select(g => $"{g.Key} x{g.Count()}"));
        return new RunResult(acknowledged.Count, expected, audit.Balance, audit.LedgerSum, audit.Entries, audit.Consistent, rejections);
    }

    internal sealed record RunResult(int Acknowledged, long Expected, long Balance, long LedgerSum, long Entries, bool Consistent, string Rejections);
}
