using Dapper;
using DualLock.MySql;
using DualLock.Redis;
using Microsoft.Extensions.Time.Testing;

namespace DualLock.IntegrationTests.MySql;

/// <summary>
/// A Redis lock alone is not safe when its holder pauses past the lease: another holder gets the
/// lock and both write. Enforcing the fencing token in the transaction refuses the stale holder when
/// its transaction begins, or makes the newer holder wait for it when the stale one began first.
/// </summary>
public sealed class MySqlFencingTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromMilliseconds(600); // with OperationTimeout 200 ms: max(renewal 200, 200) + 200 < 600, as RedisLockOptions requires

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>
    /// A pauses between its Redis lock and its transaction; B gets the lock and commits. The fence is
    /// compared when A's transaction begins (it used to be at A's commit): A is refused before its work runs.
    /// </summary>
    [Fact]
    public async Task Begin_HolderPausedPastLease_IsRefusedAndRowKeepsNewerHoldersWrite()
    {
        var (outcomeA, note, tokenA, tokenB, workARan) = await RunPausedHolderAsync(enforceFencing: true);

        var ex = Assert.IsType<LockLeaseLostException>(outcomeA);
        Assert.Equal("mysql-transaction", ex.Stage);
        Assert.True(tokenB > tokenA);
        Assert.False(workARan);
        Assert.Equal("B", note);
    }

    /// <summary>
    /// Documented negative test: the same scenario without fencing (a distributed lock alone around
    /// the transaction) lets the paused holder overwrite the newer holder's committed write.
    /// </summary>
    [Fact]
    public async Task Commit_HolderPausedPastLeaseWithoutFencing_LosesNewerHoldersWrite()
    {
        var (outcomeA, note, _, _, _) = await RunPausedHolderAsync(enforceFencing: false);

        Assert.Null(outcomeA);
        Assert.Equal("A", note); // B's committed write is lost: this is what fencing prevents
    }

    /// <summary>
    /// A pauses inside its transaction, past its lease; B gets the Redis lock but waits on the fence row A's
    /// transaction holds, so A's commit lands before B reads and B's write comes after it.
    /// </summary>
    [Fact]
    public async Task Begin_HolderPausedInsideItsTransaction_NewerHolderWaitsForItsCommit()
    {
        await using var table = await MySqlTestTable.CreateAsync("doc");
        await using var fence = await FenceTable.CreateAsync();
        var redis = await Servers.SharedRedisAsync();
        var key = new LockKey("fenced", $"doc{Guid.NewGuid():N}");
        var pipelineA = Pipeline("a", new FakeTimeProvider(DateTimeOffset.UtcNow), enforceFencing: true, fence.Name, redis);
        var pipelineB = Pipeline("b", TimeProvider.System, enforceFencing: true, fence.Name, redis);
        var aHolds = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var aResume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        string? noteSeenByB = null;

        var runA = Task.Run(async () => await pipelineA.ExecuteAsync(key, async (ctx, _) =>
        {
            aHolds.SetResult();
            await aResume.Task.WaitAsync(TimeSpan.FromSeconds(40), CancellationToken.None); // the "pause"
            await WriteNoteAsync(ctx, table, "A");
        }, cancellationToken: CancellationToken.None));
        await aHolds.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        await Task.Delay(Lease * 2, Ct); // A's lease has run out in Redis
        var runB = Task.Run(async () => await pipelineB.ExecuteAsync(key, async (ctx, _) =>
        {
            var tx = ctx.GetRequiredFeature<MySqlTransactionFeature>();
            noteSeenByB = await tx.Connection.ExecuteScalarAsync<string?>($"SELECT note FROM `{table.Name}` WHERE id = 'doc'", transaction: tx.Transaction);
            await WriteNoteAsync(ctx, table, "B");
        }, TimeSpan.FromSeconds(30), CancellationToken.None));

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!await fence.HasLockWaitAsync())
        {
            Assert.False(runB.IsCompleted, "B went through while A's transaction was open: the fence row was not held from BEGIN");
            Assert.True(DateTime.UtcNow < deadline, $"B never waited on the fence row (B: {runB.Status} {runB.Exception?.InnerException?.Message})");
            await Task.Delay(20, Ct);
        }

        aResume.SetResult();
        await runA.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        await runB.WaitAsync(TimeSpan.FromSeconds(30), Ct);

        Assert.Equal("A", noteSeenByB);
        Assert.Equal("B", await table.NoteAsync("doc"));
    }

    private static async Task<(Exception? OutcomeA, string? Note, long TokenA, long TokenB, bool WorkARan)> RunPausedHolderAsync(bool enforceFencing)
    {
        await using var table = await MySqlTestTable.CreateAsync("doc");
        await using var fence = await FenceTable.CreateAsync();
        var redis = await Servers.SharedRedisAsync();
        var key = new LockKey("fenced", $"doc{Guid.NewGuid():N}");

        // A's clock is frozen: its lease is never renewed, like a process stopped by a long GC pause or a VM freeze,
        // and it pauses after its Redis lock and before its transaction.
        var pause = new PauseStage();
        var pipelineA = Pipeline("a", new FakeTimeProvider(DateTimeOffset.UtcNow), enforceFencing, fence.Name, redis, pause);
        var pipelineB = Pipeline("b", TimeProvider.System, enforceFencing, fence.Name, redis);
        long tokenB = 0;
        var workARan = false;

        var runA = Task.Run(async () =>
        {
            try
            {
                await pipelineA.ExecuteAsync(key, async (ctx, ct) =>
                {
                    workARan = true;
                    await WriteNoteAsync(ctx, table, "A");
                }, cancellationToken: CancellationToken.None);
                return (Exception?)null;
            }
            catch (LockException ex)
            {
                return ex;
            }
        });

        try
        {
            var tokenA = await pause.Reached.WaitAsync(TimeSpan.FromSeconds(10), Ct);
            await Task.Delay(Lease * 2, Ct);
            await pipelineB.ExecuteAsync(key, async (ctx, ct) =>
            {
                tokenB = ctx.FencingToken ?? -1;
                await WriteNoteAsync(ctx, table, "B");
            }, TimeSpan.FromSeconds(5), Ct);
            pause.Resume();

            var outcomeA = await runA.WaitAsync(TimeSpan.FromSeconds(20), Ct);
            return (outcomeA, await table.NoteAsync("doc"), tokenA, tokenB, workARan);
        }
        finally
        {
            pause.Resume();
        }
    }

    private static LockPipeline Pipeline(string name, TimeProvider time, bool enforceFencing, string fenceTable, StackExchange.Redis.IConnectionMultiplexer redis, PauseStage? pause = null)
    {
        var builder = new LockPipelineBuilder { Name = $"fenced-{name}", TimeProvider = time, WaitTimeout = TimeSpan.FromSeconds(5) }
            .AddRedisLock(redis, new RedisLockOptions { KeyPrefix = "duallock-test", Lease = Lease, OperationTimeout = TimeSpan.FromMilliseconds(200) });
        if (pause is not null)
        {
            builder.AddStage(pause);
        }

        return builder.AddMySqlTransaction(Servers.MySql, o =>
            {
                o.EnforceFencing = enforceFencing;
                o.FenceTable = fenceTable;
            })
            .Build();
    }

    private static Task<int> WriteNoteAsync(LockContext context, MySqlTestTable table, string note)
    {
        var tx = context.GetRequiredFeature<MySqlTransactionFeature>();
        return tx.Connection.ExecuteAsync($"UPDATE `{table.Name}` SET note = @note WHERE id = 'doc'", new { note }, tx.Transaction);
    }

    /// <summary>Holds the execution between the outer lock and the transaction until the test resumes it: the holder's "pause".</summary>
    private sealed class PauseStage() : LockStage("pause")
    {
        private readonly TaskCompletionSource<long> _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _resume = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes with the fencing token the outer lock issued, once the execution is paused.</summary>
        public Task<long> Reached => _reached.Task;

        public void Resume() => _resume.TrySetResult();

        public override async ValueTask<LockStageHandle?> TryAcquireAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
        {
            _reached.TrySetResult(context.FencingToken ?? -1);
            await _resume.Task.WaitAsync(TimeSpan.FromSeconds(20), CancellationToken.None);
            return new Handle();
        }

        private sealed class Handle : LockStageHandle
        {
            public override ValueTask ReleaseAsync(bool workSucceeded) => ValueTask.CompletedTask;
        }
    }
}
