using Dapper;
using DualLock.MySql;
using DualLock.Redis;
using MySqlConnector;
using static DualLock.IntegrationTests.Redis.RedisTestKit;

namespace DualLock.IntegrationTests.MySql;

/// <summary>
/// A commit whose connection breaks before the server's answer arrives has an unknown outcome: the server may have
/// committed. The caller must be told exactly that (<see cref="LockCommitOutcomeUnknownException"/>), never a bare
/// driver error that the sample and most callers read as "nothing was changed" and retry, charging twice.
/// </summary>
public sealed class CommitOutcomeUnknownTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ExecuteAsync_ConnectionCutAfterTheServerCommitted_ThrowsOutcomeUnknownAndTheWriteIsThere()
    {
        await using var table = await MySqlTestTable.CreateAsync("a");
        var real = new MySqlConnectionStringBuilder(Servers.MySql);
        await using var proxy = new MySqlCommandCountingProxy(real.Server, (int)real.Port) { CutAfter = IsCommit };
        var key = NewKey();
        var pipeline = new LockPipelineBuilder { Name = "commit-cut", WaitTimeout = TimeSpan.FromSeconds(5) }
            .AddRedisLock(await Servers.SharedRedisAsync(), new RedisLockOptions { Lease = TimeSpan.FromSeconds(5) })
            .AddMySqlTransaction(ThroughProxy(proxy))
            .Build();

        var ex = await Assert.ThrowsAsync<LockCommitOutcomeUnknownException>(async () => await pipeline.ExecuteAsync(key, async (ctx, ct) =>
        {
            var tx = ctx.GetRequiredFeature<MySqlTransactionFeature>();
            await tx.Connection.ExecuteAsync(new CommandDefinition($"UPDATE `{table.Name}` SET value = value + 5 WHERE id = 'a'", transaction: tx.Transaction, cancellationToken: ct));
            return "charged";
        }, cancellationToken: Ct));

        // The server committed; only the answer was lost. The exception says so, keeps the driver's error, and the
        // outer Redis lock was still released (not left for its lease to end).
        Assert.Equal(5, await table.ValueAsync("a"));
        Assert.Equal("mysql-transaction", ex.Stage);
        Assert.Contains("may or may not", ex.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<MySqlException>(ex.InnerException);
        Assert.False(await (await Servers.SharedRedisAsync()).GetDatabase().KeyExistsAsync(LockName(key)), "The Redis lock was not released after the commit failed.");
    }

    [Fact]
    public async Task ExecuteAsync_ServerKillsTheSessionDuringTheWork_ThrowsOutcomeUnknown()
    {
        // KILL CONNECTION while the work runs: the commit meets a dead session. The library cannot tell this apart from a
        // commit whose answer was lost (the server rolled back here), so it says the outcome is unknown, not "not applied".
        await using var table = await MySqlTestTable.CreateAsync("a");
        var pipeline = new LockPipelineBuilder { Name = "commit-killed", WaitTimeout = TimeSpan.FromSeconds(5) }
            .AddMySqlTransaction(Servers.MySql)
            .Build();

        var ex = await Assert.ThrowsAsync<LockCommitOutcomeUnknownException>(async () => await pipeline.ExecuteAsync(NewKey(), async (ctx, ct) =>
        {
            var tx = ctx.GetRequiredFeature<MySqlTransactionFeature>();
            await tx.Connection.ExecuteAsync(new CommandDefinition($"UPDATE `{table.Name}` SET value = value + 5 WHERE id = 'a'", transaction: tx.Transaction, cancellationToken: ct));
            await using var killer = new MySqlConnection(Servers.MySql);
            await killer.ExecuteAsync($"KILL CONNECTION {tx.Connection.ServerThread}");
            return "charged";
        }, cancellationToken: Ct));

        Assert.Equal(0, await table.ValueAsync("a"));
        Assert.Equal("mysql-transaction", ex.Stage);
    }

    [Fact]
    public async Task ExecuteAsync_WorkThrowsAfterTheConnectionBroke_ThrowsTheWorksErrorNotOutcomeUnknown()
    {
        // Negative control: nothing was committed when the work itself failed (the rollback is all that runs), so the
        // outcome is known and the caller gets the work's own exception.
        await using var table = await MySqlTestTable.CreateAsync("a");
        var pipeline = new LockPipelineBuilder { Name = "work-failed", WaitTimeout = TimeSpan.FromSeconds(5) }
            .AddMySqlTransaction(Servers.MySql)
            .Build();

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await pipeline.ExecuteAsync(NewKey(), async (ctx, ct) =>
        {
            var tx = ctx.GetRequiredFeature<MySqlTransactionFeature>();
            await tx.Connection.ExecuteAsync(new CommandDefinition($"UPDATE `{table.Name}` SET value = value + 5 WHERE id = 'a'", transaction: tx.Transaction, cancellationToken: ct));
            await using var killer = new MySqlConnection(Servers.MySql);
            await killer.ExecuteAsync($"KILL CONNECTION {tx.Connection.ServerThread}");
            throw new InvalidOperationException("the work's own failure");
        }, cancellationToken: Ct));

        Assert.Equal(0, await table.ValueAsync("a"));
    }

    /// <summary>The COMMIT statement itself (not a statement that mentions autocommit).</summary>
    private static bool IsCommit(string command) => command.Trim().TrimEnd(';').Equals("QUERY commit", StringComparison.OrdinalIgnoreCase);

    private static string ThroughProxy(MySqlCommandCountingProxy proxy) => new MySqlConnectionStringBuilder(Servers.MySql)
    {
        Server = "127.0.0.1",
        Port = (uint)proxy.Port,
        Pooling = false,
        SslMode = MySqlSslMode.None,
    }.ConnectionString;
}
