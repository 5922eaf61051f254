using System.Data;
using Dapper;
using DualLock.MySql;
using DualLock.Redis;
using MySqlConnector;
using static DualLock.IntegrationTests.Redis.RedisTestKit;

namespace DualLock.IntegrationTests.MySql;

/// <summary>
/// The transaction stage behind a Redis lock opens its connection and begins its transaction while the Redis lock is
/// still being acquired (<see cref="PreparingLockStage"/>). Such a transaction must read what was committed before the
/// lock came, even under REPEATABLE READ: InnoDB takes the snapshot at the first read, not at BEGIN. The control shows
/// the test would see the difference: a transaction whose snapshot is taken at its start reads the old value.
/// </summary>
public sealed class MySqlPrepareAheadTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(IsolationLevel.RepeatableRead)]
    [InlineData(IsolationLevel.ReadCommitted)]
    public async Task PreparedWhileAnotherHolderWrites_ReadsThatHoldersCommit(IsolationLevel isolation)
    {
        await using var table = await MySqlTestTable.CreateAsync("a");
        var redis = await Servers.SharedRedisAsync();
        var key = NewKey();

        // Two pipelines, two Redis lock stages: the second contends for the key in Redis, as another process would.
        LockPipeline Pipeline(string name) => new LockPipelineBuilder { Name = name, WaitTimeout = TimeSpan.FromSeconds(10) }
            .AddRedisLock(redis, new RedisLockOptions { Lease = TimeSpan.FromSeconds(10) })
            .AddMySqlTransaction(Servers.MySql, o => o.IsolationLevel = isolation)
            .Build();
        var holder = Pipeline("prepare-holder");
        var waiter = Pipeline("prepare-waiter");
        var holding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var held = holder.ExecuteAsync(key, async (ctx, ct) =>
        {
            holding.SetResult();
            await Task.Delay(400, ct); // the waiter prepares its transaction now, then waits for the Redis lock
            var tx = ctx.GetRequiredFeature<MySqlTransactionFeature>();
            await tx.Connection.ExecuteAsync(new CommandDefinition($"UPDATE `{table.Name}` SET value = 42 WHERE id = 'a'", transaction: tx.Transaction, cancellationToken: ct));
        }, cancellationToken: Ct).AsTask();
        await holding.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);

        var read = await waiter.ExecuteAsync(key, async (ctx, ct) =>
        {
            var tx = ctx.GetRequiredFeature<MySqlTransactionFeature>();
            return await tx.Connection.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT value FROM `{table.Name}` WHERE id = 'a'", transaction: tx.Transaction, cancellationToken: ct));
        }, cancellationToken: Ct);
        await held;

        Assert.Equal(42, read);
    }

    /// <summary>Control: a snapshot taken at the transaction's start (before the other commit) reads the old value.</summary>
    [Fact]
    public async Task SnapshotTakenAtStart_ReadsTheOldValue()
    {
        await using var table = await MySqlTestTable.CreateAsync("a");
        await using var early = new MySqlConnection(Servers.MySql);
        await early.OpenAsync(Ct);
        await early.ExecuteAsync("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ");
        await early.ExecuteAsync("START TRANSACTION WITH CONSISTENT SNAPSHOT");

        await using (var writer = new MySqlConnection(Servers.MySql))
        {
            await writer.OpenAsync(Ct);
            await writer.ExecuteAsync($"UPDATE `{table.Name}` SET value = 42 WHERE id = 'a'");
        }

        Assert.Equal(0, await early.ExecuteScalarAsync<long>($"SELECT value FROM `{table.Name}` WHERE id = 'a'"));
        await early.ExecuteAsync("ROLLBACK");
    }
}
