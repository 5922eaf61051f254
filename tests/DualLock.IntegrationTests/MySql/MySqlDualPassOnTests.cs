using Dapper;
using DualLock.MySql;
using DualLock.Redis;

namespace DualLock.IntegrationTests.MySql;

/// <summary>
/// The Redis lock passes its local turn on once a row lock inside holds the key: the next caller waits for the
/// row in InnoDB (one deep) while the holder works, and the database hands the row over at the commit. Without a
/// row lock inside nothing is passed early, and a holder that never ends still makes the lease run out.
/// </summary>
public sealed class MySqlDualPassOnTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static RedisLockOptions RedisOptions(string prefix) => new()
    {
        KeyPrefix = prefix,
        Lease = TimeSpan.FromSeconds(2),
        OperationTimeout = TimeSpan.FromMilliseconds(250),
    };

    [Fact]
    public async Task Dual_HolderInItsWork_NextLocalCallerWaitsForTheRowInTheDatabaseAndWritesAfterTheCommit()
    {
        await using var table = await MySqlTestTable.CreateAsync("hot");
        var pipeline = await DualAsync("dual-pass-on", table, RedisOptions($"duallock-pass-{Guid.NewGuid():N}"));
        var key = new LockKey("counter", "hot");
        var firstInWork = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var first = pipeline.ExecuteAsync(key, async (ctx, ct) =>
        {
            var tx = ctx.GetRequiredFeature<MySqlTransactionFeature>();
            await tx.Connection.ExecuteAsync($"UPDATE `{table.Name}` SET value = 1, note = 'first' WHERE id = 'hot'", transaction: tx.Transaction);
            firstInWork.SetResult();
            await releaseFirst.Task.WaitAsync(TimeSpan.FromSeconds(20), CancellationToken.None);
            return ctx.FencingToken;
        }, cancellationToken: Ct).AsTask();
        await firstInWork.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);

        var secondRead = -1L;
        var second = pipeline.ExecuteAsync(key, async (ctx, ct) =>
        {
            var tx = ctx.GetRequiredFeature<MySqlTransactionFeature>();
            secondRead = await tx.Connection.ExecuteScalarAsync<long>($"SELECT value FROM `{table.Name}` WHERE id = 'hot'", transaction: tx.Transaction);
            await tx.Connection.ExecuteAsync($"UPDATE `{table.Name}` SET value = value + 1, note = 'second' WHERE id = 'hot'", transaction: tx.Transaction);
            return ctx.FencingToken;
        }, cancellationToken: Ct).AsTask();

        // The second caller is past the Redis lock and in InnoDB's lock queue for the row while the first one works.
        Assert.True(await RowLockWaitersAsync(table.Name, atLeast: 1, TimeSpan.FromSeconds(5)) >= 1, "The next local caller should wait for the row in the database while the holder works, not in the local queue.");
        Assert.False(second.IsCompleted, "The second caller's work must not run while the first holds the row.");

        releaseFirst.SetResult();
        var firstToken = await first.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        var secondToken = await second.WaitAsync(TimeSpan.FromSeconds(10), Ct);

        Assert.Equal(1, secondRead); // it read the first holder's committed write
        Assert.Equal(2, await table.ValueAsync("hot"));
        Assert.Equal("second", await table.NoteAsync("hot"));
        Assert.True(secondToken > firstToken, $"The next holder's fencing token ({secondToken}) must be above the first's ({firstToken}).");
    }

    /// <summary>The negative control of the pass-on: with no row lock inside, the Redis lock alone keeps the holders apart, so it must not pass early.</summary>
    [Fact]
    public async Task RedisAndTransaction_NoRowLockInside_NextLocalCallerStaysQueuedUntilTheHolderEnds()
    {
        var redis = await Servers.SharedRedisAsync();
        await using var table = await MySqlTestTable.CreateAsync("hot");
        var pipeline = new LockPipelineBuilder { Name = "distributed-no-pass", WaitTimeout = TimeSpan.FromSeconds(10) }
            .AddRedisLock(redis, RedisOptions($"duallock-nopass-{Guid.NewGuid():N}"))
            .AddMySqlTransaction(Servers.MySql)
            .Build();
        var key = new LockKey("counter", "hot");
        var firstInWork = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var inWork = 0;
        var overlapped = false;

        async ValueTask<bool> Work(bool isFirst)
        {
            overlapped |= Interlocked.Increment(ref inWork) > 1;
            if (isFirst)
            {
                firstInWork.SetResult();
                await releaseFirst.Task.WaitAsync(TimeSpan.FromSeconds(20), CancellationToken.None);
            }

            Interlocked.Decrement(ref inWork);
            return true;
        }

        var first = pipeline.ExecuteAsync(key, (_, _) => Work(isFirst: true), cancellationToken: Ct).AsTask();
        await firstInWork.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        var secondStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var second = pipeline.ExecuteAsync(key, (_, _) =>
        {
            secondStarted.TrySetResult();
            return Work(isFirst: false);
        }, cancellationToken: Ct).AsTask();

        // Had the turn been passed, the second work would start within milliseconds; it must wait for the first to end.
        var started = await Task.WhenAny(secondStarted.Task, Task.Delay(TimeSpan.FromMilliseconds(500), Ct));
        Assert.NotSame(secondStarted.Task, started);
        releaseFirst.SetResult();
        await Task.WhenAll(first, second).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.False(overlapped, "Two works ran at once under the Redis lock alone.");
    }

    /// <summary>
    /// A holder that passed its turn on and then never ends: the callers after it time out waiting for its row and
    /// pass the turn among themselves, but the lease's hold time keeps counting from that holder's start, so it
    /// reaches MaxHoldTime and the holder is told its lock is lost (its transaction rolled back).
    /// </summary>
    [Fact]
    public async Task Dual_StuckHolderAfterPassingOn_StillReachesMaxHoldTimeWhileOthersCycle()
    {
        await using var table = await MySqlTestTable.CreateAsync("hot");
        var options = RedisOptions($"duallock-stuck-{Guid.NewGuid():N}");
        options.MaxHoldTime = TimeSpan.FromSeconds(2);
        options.RenewalInterval = TimeSpan.FromMilliseconds(200);
        var pipeline = await DualAsync("dual-stuck", table, options);
        var key = new LockKey("counter", "hot");
        var firstInWork = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var first = pipeline.ExecuteAsync(key, async (ctx, ct) =>
        {
            var tx = ctx.GetRequiredFeature<MySqlTransactionFeature>();
            await tx.Connection.ExecuteAsync($"UPDATE `{table.Name}` SET value = 100 WHERE id = 'hot'", transaction: tx.Transaction);
            firstInWork.SetResult();
            await Task.Delay(TimeSpan.FromSeconds(30), ct); // ends only when the lease-lost signal cancels it
            return true;
        }, cancellationToken: Ct).AsTask();
        await firstInWork.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);

        // Callers that give up on the row after 700 ms, started every 150 ms: each passes the turn to the next.
        using var stop = new CancellationTokenSource();
        var cycling = Task.Run(async () =>
        {
            var waiting = new List<Task>();
            while (!stop.IsCancellationRequested)
            {
                waiting.Add(pipeline.TryExecuteAsync(key, (_, _) => ValueTask.FromResult(true), TimeSpan.FromMilliseconds(700), CancellationToken.None).AsTask());
                await Task.Delay(150, CancellationToken.None);
            }

            await Task.WhenAll(waiting);
        }, CancellationToken.None);

        var lost = await Assert.ThrowsAsync<LockLeaseLostException>(() => first.WaitAsync(TimeSpan.FromSeconds(8), Ct));
        await stop.CancelAsync();
        await cycling.WaitAsync(TimeSpan.FromSeconds(20), Ct);

        Assert.Equal("redis", lost.Stage);
        Assert.Equal(0, await table.ValueAsync("hot")); // its write was rolled back
    }

    /// <summary>The dual composition: the Redis lock (falling back when unavailable) outside, a transaction and the table's row lock inside.</summary>
    private static async Task<LockPipeline> DualAsync(string name, MySqlTestTable table, RedisLockOptions options)
        => new LockPipelineBuilder { Name = name, WaitTimeout = TimeSpan.FromSeconds(10) }
            .AddRedisLock(await Servers.SharedRedisAsync(), options)
            .ContinueIfUnavailable()
            .AddMySqlTransaction(Servers.MySql)
            .AddMySqlRowLock(table.Name, "id")
            .Build();

    private static async Task<long> RowLockWaitersAsync(string table, int atLeast, TimeSpan within)
    {
        await using var connection = await Servers.OpenMySqlAsync(Ct);
        var deadline = DateTime.UtcNow + within;
        long waiters;
        do
        {
            // The row-lock statement in flight while the holder keeps the row is waiting for it. The process list, not
            // INNODB_TRX: MariaDB serves INNODB_TRX from a cache that missed the waiter under the suite's parallel load.
            waiters = await connection.ExecuteScalarAsync<long>(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE COMMAND = 'Query' AND ID <> CONNECTION_ID() AND INFO LIKE @pattern",
                new { pattern = $"%{table}%FOR UPDATE%" });
            if (waiters >= atLeast)
            {
                return waiters;
            }

            await Task.Delay(20, Ct);
        }
        while (DateTime.UtcNow < deadline);

        return waiters;
    }
}
