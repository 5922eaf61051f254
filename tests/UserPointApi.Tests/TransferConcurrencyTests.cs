using System.Net;
using UserPointApi.Tests.Infrastructure;

namespace UserPointApi.Tests;

/// <summary>
/// The transfer oracle on real API processes: 200 concurrent requests on four users, mostly opposite transfers
/// (A->B with B->A, A->C with C->A, B->D with D->B) plus single-key charges on A and uses on B, split across two
/// instances. Under a strategy that supports transfers every request succeeds (no deadlock, no lock timeout), every
/// user's balance is its initial balance plus its acknowledged changes, every ledger sums to its balance, and the
/// total moved only by the charges and uses. The negative control <c>none</c> must break that, or the oracle proves
/// nothing. Every strategy gets the same race window as <see cref="ConcurrencyTests"/>.
/// </summary>
public sealed class TransferConcurrencyTests(SharedDatabaseFixture fixture) : IClassFixture<SharedDatabaseFixture>
{
    private const int Operations = 200;
    private const long Initial = 1_000_000;
    private const long MaxBalance = 5_000_000;

    // (kind, from, to): users 0..3 are A, B, C, D. A charge or a use names one user.
    private static readonly (string Kind, int From, int To)[] Mix =
    [
        ("transfer", 0, 1), ("transfer", 1, 0), ("transfer", 0, 1), ("transfer", 1, 0), ("transfer", 2, 0),
        ("transfer", 0, 2), ("transfer", 3, 1), ("transfer", 1, 3), ("charge", 0, 0), ("use", 1, 1),
    ];

    public static TheoryData<string> TwoInstanceStrategies => new(AvailableStrategies.Locking);

    [Theory]
    [MemberData(nameof(TwoInstanceStrategies))]
    public async Task TwoInstances_OppositeTransfers_ConserveEveryPoint(string strategy)
    {
        await using var cluster = await StartAsync(strategy, instances: 2);

        var run = await RunAsync(cluster, strategy);

        AssertExact(run, strategy, cluster);
        await AssertRejectionsChangeNothingAsync(cluster.Clients, strategy);
    }

    [Fact]
    public async Task OneInstance_Local_OppositeTransfersAndChargesOfTheSameUsers_ConserveEveryPoint()
    {
        // local is correct on one instance only; its operations share one in-process lock, so a transfer excludes a charge too.
        await using var cluster = await StartAsync("local", instances: 1);

        var run = await RunAsync(cluster, "local");

        AssertExact(run, "local", cluster);
        await AssertRejectionsChangeNothingAsync(cluster.Clients, "local");
    }

    [Fact]
    public async Task TwoInstances_None_LosesPoints()
    {
        await using var cluster = await StartAsync("none", instances: 2);

        var run = await RunAsync(cluster, "none");

        // The ledger keeps every acknowledged entry; the racy absolute writes lose some of them from the balances.
        Assert.True(run.Users.Any(u => u.Balance != u.Expected || !u.Consistent), $"none: every balance exact, the oracle is not proven: {run}");
        Assert.All(run.Users, u => Assert.Equal(u.Expected, u.LedgerSum));
        await AssertRejectionsChangeNothingAsync(cluster.Clients, "none");
    }

    private async Task<ApiCluster> StartAsync(string strategy, int instances)
        => await ApiCluster.StartAsync(fixture.Database.ConnectionString, instances, new Dictionary<string, string>
        {
            ["Locking__Strategy"] = strategy,
            ["Locking__RaceWindowMs"] = "10",
            ["Locking__WaitTimeoutMs"] = "30000",
            ["Locking__OptimisticMaxAttempts"] = "500",
            ["Points__MaxBalance"] = MaxBalance.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

    private static void AssertExact(RunResult run, string strategy, ApiCluster cluster)
    {
        Assert.True(run.Acknowledged == Operations, $"{strategy}: {run.Acknowledged} of {Operations} acknowledged; rejections: {run.Rejections}");
        Assert.DoesNotContain("Deadlock", cluster.Output, StringComparison.OrdinalIgnoreCase);
        foreach (var user in run.Users)
        {
            Assert.True(user.Expected == user.Balance, $"{strategy}: user {user.Name} has {user.Balance}, expected {user.Expected}");
            Assert.True(user.Consistent, $"{strategy}: user {user.Name} audit inconsistent (balance {user.Balance}, ledger {user.LedgerSum})");
            Assert.Equal(user.ExpectedEntries, user.Entries);
        }

        Assert.Equal(run.ExpectedTotal, run.Users.Sum(u => u.Balance));
    }

    private static async Task<RunResult> RunAsync(ApiCluster cluster, string strategy)
    {
        var clients = cluster.Clients;
        var users = new string[4];
        for (var u = 0; u < users.Length; u++)
        {
            users[u] = await clients[0].CreateUserAsync();
            Assert.Equal(HttpStatusCode.OK, (await clients[0].ChargeAsync(users[u], Initial)).Status);
        }

        var random = new Random(42);
        var plan = Enumerable.Range(0, Operations).Select(i => (Op: Mix[i % Mix.Length], Amount: (long)random.Next(100, 1000))).ToArray();
        using var start = new SemaphoreSlim(0);
        var tasks = plan.Select(async (step, i) =>
        {
            await start.WaitAsync();
            var client = clients[i % clients.Count];
            var (kind, from, to) = step.Op;
            var response = kind switch
            {
                "charge" => await client.ChargeAsync(users[from], step.Amount),
                "use" => await client.UseAsync(users[from], step.Amount),
                _ => await client.TransferAsync(users[from], users[to], step.Amount),
            };
            Assert.True(response.Status is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"{strategy}: unexpected {(int)response.Status} {response.Body}\n{cluster.Output}");
            return (step, response);
        }).ToList();
        start.Release(Operations);
        var results = await Task.WhenAll(tasks);

        var expected = Enumerable.Repeat(Initial, users.Length).ToArray();
        var entries = Enumerable.Repeat(1L, users.Length).ToArray();
        foreach (var ((kind, from, to), amount) in results.Where(r => r.response.Status == HttpStatusCode.OK).Select(r => r.step))
        {
            switch (kind)
            {
                case "charge":
                    expected[from] += amount;
                    entries[from]++;
                    break;
                case "use":
                    expected[from] -= amount;
                    entries[from]++;
                    break;
                default:
                    expected[from] -= amount;
                    expected[to] += amount;
                    entries[from]++;
                    entries[to]++;
                    break;
            }
        }

        var outcomes = new List<UserResult>();
        for (var u = 0; u < users.Length; u++)
        {
            var audit = await clients[^1].AuditAsync(users[u]);
            outcomes.Add(new UserResult("ABCD"[u].ToString(), expected[u], audit.Balance, audit.LedgerSum, entries[u], audit.Entries, audit.Consistent));
        }

        var rejections = string.Join(", ", results.Where(r => r.response.Status != HttpStatusCode.OK).GroupBy(r => r.response.Code).Select(g => $"{g.Key} x{g.Count()}"));
        return new RunResult(results.Count(r => r.response.Status == HttpStatusCode.OK), expected.Sum(), outcomes, rejections);
    }

    /// <summary>Unknown sender or receiver (404), overdraft and the receiver's maximum (409): each answered, nothing changed.</summary>
    private static async Task AssertRejectionsChangeNothingAsync(IReadOnlyList<ApiClient> clients, string strategy)
    {
        var api = clients[0];
        var poor = await api.CreateUserAsync();
        var full = await api.CreateUserAsync();
        await api.ChargeAsync(poor, 100);
        for (var i = 0; i < MaxBalance / Initial; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await api.ChargeAsync(full, Initial)).Status);
        }

        var unknownSender = await api.TransferAsync(Guid.NewGuid().ToString(), poor, 1);
        var unknownReceiver = await api.TransferAsync(poor, Guid.NewGuid().ToString(), 1);
        var overdraft = await api.TransferAsync(poor, full, 101);
        var overflow = await api.TransferAsync(poor, full, 1);
        var reverseOverdraftOk = await api.TransferAsync(full, poor, 1);

        Assert.Equal((HttpStatusCode.NotFound, "USERPOINT_NOT_FOUND"), (unknownSender.Status, unknownSender.Code));
        Assert.Equal((HttpStatusCode.NotFound, "USERPOINT_RECEIVER_NOT_FOUND"), (unknownReceiver.Status, unknownReceiver.Code));
        Assert.Equal((HttpStatusCode.Conflict, "USERPOINT_INSUFFICIENT_BALANCE"), (overdraft.Status, overdraft.Code));
        Assert.Equal((HttpStatusCode.Conflict, "USERPOINT_AMOUNT_OVERFLOW"), (overflow.Status, overflow.Code));
        Assert.True(reverseOverdraftOk.Status == HttpStatusCode.OK, $"{strategy}: {reverseOverdraftOk.Body}");
        Assert.Equal((101L, 101L, 2L, true), await api.AuditAsync(poor));
        Assert.Equal((MaxBalance - 1, MaxBalance - 1, 6L, true), await api.AuditAsync(full));
    }

    private sealed record UserResult(string Name, long Expected, long Balance, long LedgerSum, long ExpectedEntries, long Entries, bool Consistent);

    private sealed record RunResult(int Acknowledged, long ExpectedTotal, IReadOnlyList<UserResult> Users, string Rejections)
    {
        public override string ToString() => $"{Acknowledged} acknowledged; " + string.Join("; ", Users) + $"; rejections: {Rejections}";
    }
}
