using Dapper;
using DualLock.MySql;
using MySqlConnector;

namespace DualLock.IntegrationTests.MySql;

/// <summary>
/// A key set whose named lock becomes unavailable on its second key, under ContinueIfUnavailable: the first
/// key's named lock is given back and the execution goes on with the transaction alone; the given-back lock
/// must not be one the commit tries to confirm.
/// </summary>
public sealed class MySqlNamedLockFallbackTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ExecuteAsync_KeySetNamedLockUnavailableOnSecondKey_FallbackCommits()
    {
        await using var table = await MySqlTestTable.CreateAsync("a", "b");
        var real = new MySqlConnectionStringBuilder(Servers.MySql);
        await using var proxy = new MySqlCommandCountingProxy(real.Server, (int)real.Port) { ForwardConnections = 1 };
        var throughProxy = new MySqlConnectionStringBuilder(Servers.MySql) { Server = "127.0.0.1", Port = (uint)proxy.Port, Pooling = false, SslMode = MySqlSslMode.None, ConnectionTimeout = 2 };
        var pipeline = new LockPipelineBuilder { Name = "named-fallback-set", WaitTimeout = TimeSpan.FromSeconds(5) }
            .AddMySqlNamedLock(throughProxy.ConnectionString)
            .ContinueIfUnavailable()
            .AddMySqlTransaction(Servers.MySql)
            .AddMySqlRowLock(table.Name, "id")
            .Build();

        var skipped = await pipeline.ExecuteAsync([new LockKey("counter", "a"), new LockKey("counter", "b")], async (ctx, ct) =>
        {
            var tx = ctx.GetRequiredFeature<MySqlTransactionFeature>();
            await tx.Connection.ExecuteAsync(new CommandDefinition($"UPDATE `{table.Name}` SET value = value + 1", transaction: tx.Transaction, cancellationToken: ct));
            return ctx.GetFeature<SkippedStages>() is not null;
        }, cancellationToken: Ct);

        Assert.True(skipped, "The named lock should have been found unavailable on the second key.");
        Assert.Equal(1, await table.ValueAsync("a"));
        Assert.Equal(1, await table.ValueAsync("b"));
    }
}
