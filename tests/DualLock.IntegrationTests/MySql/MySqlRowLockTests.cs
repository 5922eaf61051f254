using Dapper;
using DualLock.MySql;
using MySqlConnector;

namespace DualLock.IntegrationTests.MySql;

public sealed class MySqlRowLockTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A pool of one connection of its own, so a test can see that the same session comes back healthy.</summary>
    private static string SinglePool() => new MySqlConnectionStringBuilder(Servers.MySql)
    {
        MaximumPoolSize = 1,
        ApplicationName = $"duallock-test-{Guid.NewGuid():N}",
    }.ConnectionString;

    private static LockPipeline RowLockPipeline(string connectionString, string table, TimeSpan wait, MySqlRowLockWaitMode mode = MySqlRowLockWaitMode.LockWaitTimeout)
        => new LockPipelineBuilder { Name = "row", WaitTimeout = wait }
            .AddMySqlTransaction(connectionString)
            .AddMySqlRowLock(table, "id", o => o.WaitMode = mode)
            .Build();

    private static Task<int> SetValueAsync(LockContext context, string table, long value)
    {
        var tx = context.GetRequiredFeature<MySqlTransactionFeature>();
        return tx.Connection.ExecuteAsync($"UPDATE `{table}` SET value = @value WHERE id = @id", new { value, id = context.Keys.First.Id }, tx.Transaction);
    }

    [Theory]
    [InlineData(MySqlRowLockWaitMode.LockWaitTimeout)]
    [InlineData(MySqlRowLockWaitMode.NoWaitRetry)]
    public async Task ExecuteAsync_RowHeldElsewhere_ThrowsLockTimeoutRollsBackAndPoolStaysHealthy(MySqlRowLockWaitMode mode)
    {
        await using var table = await MySqlTestTable.CreateAsync("a");
        var connectionString = SinglePool();
        var pipeline = RowLockPipeline(connectionString, table.Name, TimeSpan.FromSeconds(1), mode);
        var key = new LockKey("counter", "a");
        var sessionBefore = await pipeline.ExecuteAsync(key, async (ctx, ct) =>
        {
            var tx = ctx.GetRequiredFeature<MySqlTransactionFeature>();
            return await tx.Connection.ExecuteScalarAsync<long>("SELECT CONNECTION_ID()", transaction: tx.Transaction);
        }, cancellationToken: Ct);

        await using (var blocker = await Servers.OpenMySqlAsync(Ct))
        await using (var blockerTx = await blocker.BeginTransactionAsync(Ct))
        {
            await blocker.ExecuteAsync($"SELECT 1 FROM `{table.Name}` WHERE id = 'a' FOR UPDATE", transaction: blockerTx);

            var ex = await Assert.ThrowsAsync<LockTimeoutException>(async () =>
                await pipeline.ExecuteAsync(key, (ctx, ct) => new ValueTask(SetValueAsync(ctx, table.Name, 99)), cancellationToken: Ct));

            Assert.Equal("mysql-row-lock", ex.Stage);
            // The server's lock-wait timeout (whole seconds), or the statement interrupted when what was left of the wait ran out.
            Assert.Contains(Assert.IsType<MySqlException>(ex.InnerException).ErrorCode, new[] { MySqlErrorCode.LockWaitTimeout, MySqlErrorCode.QueryInterrupted });
            await blockerTx.RollbackAsync(Ct);
        }

        Assert.Equal(0, await table.ValueAsync("a"));

        // The one pooled session comes back: no transaction left open, its lock released, and it serves the next caller.
        var session = await pipeline.ExecuteAsync(key, async (ctx, ct) =>
        {
            var tx = ctx.GetRequiredFeature<MySqlTransactionFeature>();
            await SetValueAsync(ctx, table.Name, 7);
            return await tx.Connection.ExecuteScalarAsync<long>("SELECT CONNECTION_ID()", transaction: tx.Transaction);
        }, cancellationToken: Ct);
        Assert.Equal(sessionBefore, session);
        Assert.Equal(7, await table.ValueAsync("a"));
    }

    [Fact]
    public async Task ExecuteAsync_Deadlock_ThrowsLockTimeoutAndRowIsUnchanged()
    {
        await using var table = await MySqlTestTable.CreateAsync("a", "a-b");
        var pipeline = new LockPipelineBuilder { Name = "deadlock", WaitTimeout = TimeSpan.FromSeconds(20) }
            .AddMySqlTransaction(Servers.MySql)
            .AddMySqlRowLock(table.Name, "id")
            .AddMySqlRowLock(new MySqlRowLockOptions { Name = "second-row", Sql = $"SELECT 1 FROM `{table.Name}` WHERE id = CONCAT(@id, '-b') FOR UPDATE" })
            .Build();

        await using var other = await Servers.OpenMySqlAsync(Ct);
        await using var otherTx = await other.BeginTransactionAsync(Ct);

        // The other transaction is made heavier (it changed rows) so InnoDB picks the pipeline's as the victim.
        for (var i = 0; i < 20; i++)
        {
            await table.InsertAsync(other, $"heavy-{i}", otherTx);
        }

        // Sequence: other holds a-b; the pipeline locks a, then waits for a-b; other asks for a: a cycle.
        await other.ExecuteAsync($"SELECT 1 FROM `{table.Name}` WHERE id = 'a-b' FOR UPDATE", transaction: otherTx);
        var run = pipeline.ExecuteAsync(new LockKey("counter", "a"), (ctx, ct) => new ValueTask(SetValueAsync(ctx, table.Name, 99)), cancellationToken: Ct).AsTask();
        await WaitForLockWaitAsync(table.Name, run);
        await other.ExecuteAsync($"SELECT 1 FROM `{table.Name}` WHERE id = 'a' FOR UPDATE", transaction: otherTx);

        var ex = await Assert.ThrowsAsync<LockTimeoutException>(() => run);
        Assert.Equal("second-row", ex.Stage);
        Assert.Equal(MySqlErrorCode.LockDeadlock, Assert.IsType<MySqlException>(ex.InnerException).ErrorCode);
        await otherTx.RollbackAsync(Ct);
        Assert.Equal(0, await table.ValueAsync("a"));
    }

    [Fact]
    public async Task ExecuteAsync_MissingRow_ThrowsRowNotFoundAndRunsNoWork()
    {
        await using var table = await MySqlTestTable.CreateAsync("a");
        var pipeline = RowLockPipeline(Servers.MySql, table.Name, TimeSpan.FromSeconds(1));
        var ran = false;

        var ex = await Assert.ThrowsAsync<MySqlRowNotFoundException>(async () =>
            await pipeline.ExecuteAsync(new LockKey("counter", "missing"), (_, _) => { ran = true; return ValueTask.CompletedTask; }, cancellationToken: Ct));

        Assert.False(ran);
        Assert.Contains(table.Name, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("missing", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExecuteAsync_WorkThrowsAfterWriting_LeavesNoPartialWrite()
    {
        await using var table = await MySqlTestTable.CreateAsync("a");
        var pipeline = RowLockPipeline(Servers.MySql, table.Name, TimeSpan.FromSeconds(1));

        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await pipeline.ExecuteAsync(new LockKey("counter", "a"), async (ctx, ct) =>
            {
                await SetValueAsync(ctx, table.Name, 99);
                throw new InvalidOperationException("the work failed half-way");
            }, cancellationToken: Ct));

        Assert.Equal(0, await table.ValueAsync("a"));
    }

    [Fact]
    public async Task ExecuteAsync_WorkCancelledAfterWriting_LeavesNoPartialWrite()
    {
        await using var table = await MySqlTestTable.CreateAsync("a");
        var pipeline = RowLockPipeline(Servers.MySql, table.Name, TimeSpan.FromSeconds(1));
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            await pipeline.ExecuteAsync(new LockKey("counter", "a"), async (ctx, ct) =>
            {
                await SetValueAsync(ctx, table.Name, 99);
                cts.CancelAfter(50);
                var tx = ctx.GetRequiredFeature<MySqlTransactionFeature>();
                await tx.Connection.ExecuteAsync(new CommandDefinition("SELECT SLEEP(10)", transaction: tx.Transaction, cancellationToken: ct));
                ct.ThrowIfCancellationRequested();
            }, cancellationToken: cts.Token));

        Assert.Equal(0, await table.ValueAsync("a"));
    }

    private static async Task WaitForLockWaitAsync(string table, Task run)
    {
        await using var probe = await Servers.OpenMySqlAsync(Ct);
        for (var i = 0; i < 200; i++)
        {
            var waiting = await probe.ExecuteScalarAsync<long>(
                "SELECT COUNT(*) FROM information_schema.processlist WHERE id <> CONNECTION_ID() AND info LIKE CONCAT('%', @table, '%-b%FOR UPDATE%')", new { table });
            if (run.IsCompleted)
            {
                await run;
            }

            if (waiting > 0)
            {
                return;
            }

            await Task.Delay(20, Ct);
        }

        var trx = await probe.QueryAsync<(string State, string? Query)>("SELECT COALESCE(state, ''), info FROM information_schema.processlist WHERE info IS NOT NULL");
        throw new TimeoutException("The pipeline never waited for the second row: " + string.Join(" | ", trx));
    }
}
