using Dapper;
using DualLock.MySql;

namespace DualLock.IntegrationTests.MySql;

/// <summary>
/// Fencing taken when the transaction begins: the fence row is upserted and compared right after
/// BEGIN and stays locked until the commit, so a newer holder waits for (or refuses) an older one
/// instead of racing it, and a holder whose outer lease is known lost never commits.
/// </summary>
public sealed class MySqlFenceAtBeginTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>
    /// The interleaving a review found: A (token t) reads 100 and pauses; B (t+1) starts and
    /// reads; A writes 110 and commits; B writes its read + 20 and commits. Compared only at commit,
    /// both pass and A's charge is lost (120). Taken at BEGIN, B waits until A committed and reads 110.
    /// </summary>
    [Fact]
    public async Task Begin_StaleHolderCommitsFirst_NewerHolderWaitsAndNoChargeIsLost()
    {
        await using var table = await MySqlTestTable.CreateAsync("acct");
        await using var fence = await FenceTable.CreateAsync();
        await SetValueAsync(table, 100);
        var key = new LockKey("fenced", $"acct{Guid.NewGuid():N}");
        var pipelineA = Pipeline("a", new FencingTokenStage(41), fence.Name);
        var pipelineB = Pipeline("b", new FencingTokenStage(42), fence.Name);

        var aRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var aResume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var aCommitted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var bRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var runA = Task.Run(async () =>
        {
            await pipelineA.ExecuteAsync(key, async (ctx, _) =>
            {
                var balance = await ReadValueAsync(ctx, table);
                aRead.SetResult();
                await aResume.Task.WaitAsync(TimeSpan.FromSeconds(40), CancellationToken.None); // the pause
                await WriteValueAsync(ctx, table, balance + 10);
            }, cancellationToken: CancellationToken.None);
            aCommitted.SetResult();
        });
        await aRead.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);

        var runB = Task.Run(async () =>
            await pipelineB.ExecuteAsync(key, async (ctx, _) =>
            {
                var balance = await ReadValueAsync(ctx, table);
                bRead.TrySetResult();
                await aCommitted.Task.WaitAsync(TimeSpan.FromSeconds(40), CancellationToken.None);
                await WriteValueAsync(ctx, table, balance + 20);
            }, TimeSpan.FromSeconds(30), CancellationToken.None));

        // B has either read already (fence compared at commit only) or waits on A's fence row in the server.
        await WaitUntilAsync(async () => bRead.Task.IsCompleted || await fence.HasLockWaitAsync());
        aResume.SetResult();
        await runA.WaitAsync(TimeSpan.FromSeconds(40), Ct);
        await runB.WaitAsync(TimeSpan.FromSeconds(40), Ct);

        Assert.Equal(130, await table.ValueAsync("acct"));
    }

    [Fact]
    public async Task Begin_TokenLowerThanRecorded_IsRefusedBeforeTheWorkRuns()
    {
        await using var table = await MySqlTestTable.CreateAsync("doc");
        await using var fence = await FenceTable.CreateAsync();
        var key = new LockKey("fenced", $"doc{Guid.NewGuid():N}");
        await Pipeline("newer", new FencingTokenStage(10), fence.Name)
            .ExecuteAsync(key, async (ctx, _) => await WriteNoteAsync(ctx, table, "newer"), cancellationToken: Ct);
        var workRan = false;

        var ex = await Assert.ThrowsAsync<LockLeaseLostException>(async () =>
            await Pipeline("older", new FencingTokenStage(9), fence.Name).ExecuteAsync(key, async (ctx, _) =>
            {
                workRan = true;
                await WriteNoteAsync(ctx, table, "older");
            }, cancellationToken: Ct));

        Assert.False(workRan, "the stale holder's work ran: the fence was not compared when the transaction began");
        Assert.Equal("mysql-transaction", ex.Stage);
        Assert.Equal("newer", await table.NoteAsync("doc"));
        Assert.Equal(10, await fence.TokenAsync(key));
    }

    /// <summary>
    /// The outer lease is lost while the work runs and the work ignores its cancelled token and returns:
    /// the transaction must roll back instead of committing. The pipeline disposes the lease source before
    /// releasing, so this also proves the token captured at acquire still reports the loss then.
    /// </summary>
    [Fact]
    public async Task Commit_OuterLeaseLostBeforeCommit_RollsBackAndThrowsLeaseLost()
    {
        await using var table = await MySqlTestTable.CreateAsync("doc");
        var outer = new FencingTokenStage(1);
        var pipeline = new LockPipelineBuilder { Name = "lease-lost" }
            .AddStage(outer)
            .AddMySqlTransaction(Servers.MySql)
            .Build();
        var key = new LockKey("fenced", $"doc{Guid.NewGuid():N}");

        var ex = await Assert.ThrowsAsync<LockLeaseLostException>(async () =>
            await pipeline.ExecuteAsync(key, async (ctx, _) =>
            {
                await WriteNoteAsync(ctx, table, "written after the lease was lost");
                outer.LoseLease();
            }, cancellationToken: Ct));

        Assert.Equal("fake-outer-lock", ex.Stage);
        Assert.Null(await table.NoteAsync("doc"));
    }

    private static LockPipeline Pipeline(string name, FencingTokenStage outer, string fenceTable)
        => new LockPipelineBuilder { Name = $"fence-begin-{name}", WaitTimeout = TimeSpan.FromSeconds(10) }
            .AddStage(outer)
            .AddMySqlTransaction(Servers.MySql, o =>
            {
                o.EnforceFencing = true;
                o.FenceTable = fenceTable;
            })
            .Build();

    private static async Task SetValueAsync(MySqlTestTable table, long value)
    {
        await using var connection = await Servers.OpenMySqlAsync(Ct);
        await connection.ExecuteAsync($"UPDATE `{table.Name}` SET value = @value", new { value });
    }

    private static Task<long> ReadValueAsync(LockContext context, MySqlTestTable table)
    {
        var tx = context.GetRequiredFeature<MySqlTransactionFeature>();
        return tx.Connection.ExecuteScalarAsync<long>($"SELECT value FROM `{table.Name}` WHERE id = 'acct'", transaction: tx.Transaction);
    }

    private static Task<int> WriteValueAsync(LockContext context, MySqlTestTable table, long value)
    {
        var tx = context.GetRequiredFeature<MySqlTransactionFeature>();
        return tx.Connection.ExecuteAsync($"UPDATE `{table.Name}` SET value = @value WHERE id = 'acct'", new { value }, tx.Transaction);
    }

    private static Task<int> WriteNoteAsync(LockContext context, MySqlTestTable table, string note)
    {
        var tx = context.GetRequiredFeature<MySqlTransactionFeature>();
        return tx.Connection.ExecuteAsync($"UPDATE `{table.Name}` SET note = @note WHERE id = 'doc'", new { note }, tx.Transaction);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not become true within 20 s");
            await Task.Delay(20, Ct);
        }
    }
}
