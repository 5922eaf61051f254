using Dapper;
using DualLock.MySql;
using DualLock.Redis;
using Microsoft.Extensions.Time.Testing;

namespace DualLock.IntegrationTests.MySql;

/// <summary>
/// A Redis lock alone is not safe when its holder pauses past the lease: another holder gets the
/// lock and both write. Enforcing the fencing token in the transaction refuses the stale holder.
/// </summary>
public sealed class MySqlFencingTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromMilliseconds(600); // with OperationTimeout 200 ms: max(renewal 200, 200) + 200 < 600, as RedisLockOptions requires

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Commit_HolderPausedPastLease_IsRefusedAndRowKeepsNewerHoldersWrite()
    {
        var (outcomeA, note, tokenA, tokenB) = await RunPausedHolderAsync(enforceFencing: true);

        var ex = Assert.IsType<LockLeaseLostException>(outcomeA);
        Assert.Equal("mysql-transaction", ex.Stage);
        Assert.True(tokenB > tokenA);
        Assert.Equal("B", note);
    }

    /// <summary>
    /// Documented negative test: the same scenario without fencing (a distributed lock alone around
    /// the transaction) lets the paused holder overwrite the newer holder's committed write.
    /// </summary>
    [Fact]
    public async Task Commit_HolderPausedPastLeaseWithoutFencing_LosesNewerHoldersWrite()
    {
        var (outcomeA, note, _, _) = await RunPausedHolderAsync(enforceFencing: false);

        Assert.Null(outcomeA);
        Assert.Equal("A", note); // B's committed write is lost: this is what fencing prevents
    }

    private static async Task<(Exception? OutcomeA, string? Note, long TokenA, long TokenB)> RunPausedHolderAsync(bool enforceFencing)
    {
        await using var table = await MySqlTestTable.CreateAsync("doc");
        var redis = await Servers.SharedRedisAsync();
        var key = new LockKey("fenced", $"doc{Guid.NewGuid():N}");
        var fenceTable = $"duallock_fence_{Guid.NewGuid():N}"[..30];

        // A's clock is frozen: its lease is never renewed, like a process stopped by a long GC pause or a VM freeze.
        var pipelineA = Pipeline("a", new FakeTimeProvider(DateTimeOffset.UtcNow), table, enforceFencing, fenceTable, redis);
        var pipelineB = Pipeline("b", TimeProvider.System, table, enforceFencing, fenceTable, redis);

        var aHolds = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        var bCommitted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        long tokenB = 0;

        var runA = Task.Run(async () =>
        {
            try
            {
                await pipelineA.ExecuteAsync(key, async (ctx, ct) =>
                {
                    aHolds.SetResult(ctx.FencingToken ?? -1);
                    await bCommitted.Task.WaitAsync(TimeSpan.FromSeconds(20), CancellationToken.None); // the "pause"
                    await WriteNoteAsync(ctx, table, "A");
                }, CancellationToken.None);
                return (Exception?)null;
            }
            catch (LockException ex)
            {
                return ex;
            }
        });

        try
        {
            var tokenA = await aHolds.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
            await Task.Delay(Lease * 2, Ct);
            await pipelineB.ExecuteAsync(key, TimeSpan.FromSeconds(5), async (ctx, ct) =>
            {
                tokenB = ctx.FencingToken ?? -1;
                await WriteNoteAsync(ctx, table, "B");
            }, Ct);
            bCommitted.SetResult();

            var outcomeA = await runA.WaitAsync(TimeSpan.FromSeconds(20), Ct);
            return (outcomeA, await table.NoteAsync("doc"), tokenA, tokenB);
        }
        finally
        {
            bCommitted.TrySetResult();
            await using var connection = await Servers.OpenMySqlAsync();
            await connection.ExecuteAsync($"DROP TABLE IF EXISTS `{fenceTable}`");
        }
    }

    private static LockPipeline Pipeline(string name, TimeProvider time, MySqlTestTable table, bool enforceFencing, string fenceTable, StackExchange.Redis.IConnectionMultiplexer redis)
        => new LockPipelineBuilder { Name = $"fenced-{name}", TimeProvider = time, WaitTimeout = TimeSpan.FromSeconds(5) }
            .AddRedisLock(redis, new RedisLockOptions { KeyPrefix = "duallock-test", Lease = Lease, OperationTimeout = TimeSpan.FromMilliseconds(200) })
            .AddMySqlTransaction(Servers.MySql, o =>
            {
                o.EnforceFencing = enforceFencing;
                o.FenceTable = fenceTable;
            })
            .Build();

    private static Task<int> WriteNoteAsync(LockContext context, MySqlTestTable table, string note)
    {
        var tx = context.GetRequiredFeature<MySqlTransactionFeature>();
        return tx.Connection.ExecuteAsync($"UPDATE `{table.Name}` SET note = @note WHERE id = 'doc'", new { note }, tx.Transaction);
    }
}
