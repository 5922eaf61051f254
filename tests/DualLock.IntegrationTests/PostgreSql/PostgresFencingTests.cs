using Dapper;
using DualLock.IntegrationTests.MySql;
using DualLock.PostgreSql;

namespace DualLock.IntegrationTests.PostgreSql;

/// <summary>
/// EnforceFencing on the PostgreSQL transaction: the outer lock's token is recorded and compared as the transaction's
/// first statement, so a holder whose token is older than one already recorded is refused before its work runs, and
/// the fence row stays locked until the commit so a newer holder waits for an older one still inside.
/// The outer lock is <see cref="FencingTokenStage"/>: only the order of the tokens matters here, and the test picks it.
/// </summary>
public sealed class PostgresFencingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Begin_TokenLowerThanRecorded_IsRefusedBeforeTheWorkRunsAndNothingIsWritten()
    {
        await using var table = await PostgresTestTable.CreateAsync("doc");
        await using var fence = await PostgresFenceTable.CreateAsync();
        var key = NewKey();
        await Pipeline("newer", 10, fence.Name, enforceFencing: true)
            .ExecuteAsync(key, async (ctx, _) => await WriteNoteAsync(ctx, table, "newer"), cancellationToken: Ct);
        var workRan = false;

        var ex = await Assert.ThrowsAsync<LockLeaseLostException>(async () =>
            await Pipeline("older", 9, fence.Name, enforceFencing: true).ExecuteAsync(key, async (ctx, _) =>
            {
                workRan = true;
                await WriteNoteAsync(ctx, table, "older");
            }, cancellationToken: Ct));

        Assert.False(workRan, "the stale holder's work ran: the fence was not compared when the transaction began");
        Assert.Equal("postgres-transaction", ex.Stage);
        Assert.Equal(9, ex.RefusedFencingToken);
        Assert.Equal(10, ex.NewerFencingToken);
        Assert.Equal("newer", await table.NoteAsync("doc"));
        Assert.Equal(10, await fence.TokenAsync(key));
    }

    [Fact]
    public async Task Begin_NewerToken_PassesRecordsItsTokenAndCommits()
    {
        await using var table = await PostgresTestTable.CreateAsync("doc");
        await using var fence = await PostgresFenceTable.CreateAsync();
        var key = NewKey();
        await Pipeline("first", 10, fence.Name, enforceFencing: true)
            .ExecuteAsync(key, async (ctx, _) => await WriteNoteAsync(ctx, table, "first"), cancellationToken: Ct);

        await Pipeline("next", 11, fence.Name, enforceFencing: true)
            .ExecuteAsync(key, async (ctx, _) => await WriteNoteAsync(ctx, table, "next"), cancellationToken: Ct);

        Assert.Equal("next", await table.NoteAsync("doc"));
        Assert.Equal(11, await fence.TokenAsync(key));
    }

    /// <summary>
    /// Negative control: the same two holders in the same order without EnforceFencing. The stale holder's write
    /// lands over the newer one's, which is what the fence above prevents.
    /// </summary>
    [Fact]
    public async Task WithoutFencing_StaleToken_OverwritesTheNewerHoldersWrite()
    {
        await using var table = await PostgresTestTable.CreateAsync("doc");
        await using var fence = await PostgresFenceTable.CreateAsync();
        var key = NewKey();
        await Pipeline("newer", 10, fence.Name, enforceFencing: false)
            .ExecuteAsync(key, async (ctx, _) => await WriteNoteAsync(ctx, table, "newer"), cancellationToken: Ct);

        await Pipeline("older", 9, fence.Name, enforceFencing: false)
            .ExecuteAsync(key, async (ctx, _) => await WriteNoteAsync(ctx, table, "older"), cancellationToken: Ct);

        Assert.Equal("older", await table.NoteAsync("doc"));
        Assert.Null(await fence.TokenAsync(key));
    }

    /// <summary>
    /// A (token 41) is inside its transaction; B (token 42) starts and must wait on the fence row A's upsert holds,
    /// so B reads A's commit instead of racing it: no charge is lost.
    /// </summary>
    [Fact]
    public async Task Begin_OlderHolderStillInside_NewerHolderWaitsForItsCommitAndNoChargeIsLost()
    {
        await using var table = await PostgresTestTable.CreateAsync("doc");
        await using var fence = await PostgresFenceTable.CreateAsync();
        var key = NewKey();
        var aHolds = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var aResume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var runA = Task.Run(async () => await Pipeline("a", 41, fence.Name, enforceFencing: true).ExecuteAsync(key, async (ctx, _) =>
        {
            var value = await ReadValueAsync(ctx, table);
            aHolds.SetResult();
            await aResume.Task.WaitAsync(TimeSpan.FromSeconds(40), CancellationToken.None); // the pause
            await WriteValueAsync(ctx, table, value + 10);
        }, cancellationToken: CancellationToken.None));
        await aHolds.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);

        var runB = Task.Run(async () => await Pipeline("b", 42, fence.Name, enforceFencing: true).ExecuteAsync(key, async (ctx, _) =>
        {
            var value = await ReadValueAsync(ctx, table);
            await WriteValueAsync(ctx, table, value + 20);
        }, TimeSpan.FromSeconds(30), CancellationToken.None));

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!await fence.HasLockWaitAsync())
        {
            Assert.False(runB.IsCompleted, $"B went through while A's transaction was open: the fence row was not held from BEGIN ({runB.Exception?.InnerException?.Message})");
            Assert.True(DateTime.UtcNow < deadline, "B never waited on the fence row");
            await Task.Delay(20, Ct);
        }

        aResume.SetResult();
        await runA.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        await runB.WaitAsync(TimeSpan.FromSeconds(30), Ct);

        Assert.Equal(30, await table.ValueAsync("doc"));
        Assert.Equal(42, await fence.TokenAsync(key));
    }

    /// <summary>A newer holder whose wait runs out on the fence row an older holder still holds fails as a timeout, and writes nothing.</summary>
    [Fact]
    public async Task Begin_OlderHolderKeepsTheFenceRowPastTheWait_NewerHolderTimesOut()
    {
        await using var table = await PostgresTestTable.CreateAsync("doc");
        await using var fence = await PostgresFenceTable.CreateAsync();
        var key = NewKey();
        var aHolds = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var aResume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var runA = Task.Run(async () => await Pipeline("a", 41, fence.Name, enforceFencing: true).ExecuteAsync(key, async (ctx, _) =>
        {
            aHolds.SetResult();
            await aResume.Task.WaitAsync(TimeSpan.FromSeconds(40), CancellationToken.None);
            await WriteNoteAsync(ctx, table, "A");
        }, cancellationToken: CancellationToken.None));
        await aHolds.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        var bRan = false;

        try
        {
            var ex = await Assert.ThrowsAsync<LockTimeoutException>(async () =>
                await Pipeline("b", 42, fence.Name, enforceFencing: true).ExecuteAsync(key, async (ctx, _) =>
                {
                    bRan = true;
                    await WriteNoteAsync(ctx, table, "B");
                }, TimeSpan.FromMilliseconds(300), Ct));

            Assert.Equal("postgres-transaction", ex.Stage);
            Assert.False(bRan);
        }
        finally
        {
            aResume.TrySetResult();
        }

        await runA.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        Assert.Equal("A", await table.NoteAsync("doc"));
        Assert.Equal(41, await fence.TokenAsync(key)); // B's token was rolled back with its transaction
    }

    /// <summary>
    /// The outer lease is lost while the work runs and the work returns anyway: the transaction rolls back instead of
    /// committing. Control: the same work with the lease kept commits.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Commit_OuterLeaseLostBeforeCommit_RollsBackAndThrowsLeaseLost(bool loseLease)
    {
        await using var table = await PostgresTestTable.CreateAsync("doc");
        var outer = new FencingTokenStage(1);
        var pipeline = new LockPipelineBuilder { Name = "pg-lease-lost" }
            .AddStage(outer)
            .AddPostgresTransaction(Servers.Postgres)
            .Build();

        var run = pipeline.ExecuteAsync(NewKey(), async (ctx, _) =>
        {
            await WriteNoteAsync(ctx, table, "written");
            if (loseLease)
            {
                outer.LoseLease();
            }
        }, cancellationToken: Ct).AsTask();

        if (loseLease)
        {
            var ex = await Assert.ThrowsAsync<LockLeaseLostException>(() => run);
            Assert.Equal("fake-outer-lock", ex.Stage);
            Assert.Null(await table.NoteAsync("doc"));
        }
        else
        {
            await run;
            Assert.Equal("written", await table.NoteAsync("doc"));
        }
    }

    /// <summary>A set's keys are all fenced: one key with a newer recorded token refuses the whole set.</summary>
    [Fact]
    public async Task Begin_KeySetWithOneStaleKey_IsRefusedAsAWhole()
    {
        await using var table = await PostgresTestTable.CreateAsync("doc");
        await using var fence = await PostgresFenceTable.CreateAsync();
        var fresh = NewKey();
        var stale = NewKey();
        await Pipeline("newer", 10, fence.Name, enforceFencing: true).ExecuteAsync(stale, (_, _) => ValueTask.CompletedTask, cancellationToken: Ct);
        var workRan = false;

        var ex = await Assert.ThrowsAsync<LockLeaseLostException>(async () =>
            await SetPipeline(fence.Name, _ => 9).ExecuteAsync(new[] { fresh, stale }, async (ctx, _) =>
            {
                workRan = true;
                await WriteNoteAsync(ctx, table, "older");
            }, cancellationToken: Ct));

        Assert.False(workRan);
        Assert.Equal(9, ex.RefusedFencingToken);
        Assert.Null(await table.NoteAsync("doc"));
        Assert.Null(await fence.TokenAsync(fresh)); // the fresh key's record was rolled back with the refused transaction
    }

    /// <summary>
    /// The same stale holder as above, but its outer stage reports one <see cref="LockStageHandle.FencingToken"/> for the
    /// set, which applies to no key of it. Before the fix the transaction fenced nothing and the stale work overwrote the
    /// newer holder's write; now the execution fails before the transaction opens (fail closed).
    /// </summary>
    [Fact]
    public async Task Begin_KeySetWithOneTokenForTheSet_FailsBeforeTheWorkRunsAndNothingIsWritten()
    {
        await using var table = await PostgresTestTable.CreateAsync("doc");
        await using var fence = await PostgresFenceTable.CreateAsync();
        var fresh = NewKey();
        var stale = NewKey();
        await Pipeline("newer", 10, fence.Name, enforceFencing: true).ExecuteAsync(stale, async (ctx, _) => await WriteNoteAsync(ctx, table, "newer"), cancellationToken: Ct);
        var workRan = false;

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await Pipeline("older", 9, fence.Name, enforceFencing: true).ExecuteAsync(new[] { fresh, stale }, async (ctx, _) =>
            {
                workRan = true;
                await WriteNoteAsync(ctx, table, "older");
            }, cancellationToken: Ct));

        Assert.False(workRan, "the work ran although no key of the set carried a fencing token: EnforceFencing fenced nothing");
        Assert.Contains("'postgres-transaction'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("2 of the 2 keys", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'fenced'", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(stale.Id, ex.Message, StringComparison.Ordinal); // ids may be personal data
        Assert.Equal("newer", await table.NoteAsync("doc"));
        Assert.Null(await fence.TokenAsync(fresh));
        Assert.Equal(10, await fence.TokenAsync(stale));
    }

    /// <summary>Control for the set: every key's token current, the set passes and each key's token is recorded.</summary>
    [Fact]
    public async Task Begin_KeySetWithCurrentTokens_PassesAndRecordsEachKeysToken()
    {
        await using var table = await PostgresTestTable.CreateAsync("doc");
        await using var fence = await PostgresFenceTable.CreateAsync();
        var first = NewKey();
        var second = NewKey();

        await SetPipeline(fence.Name, k => k == first ? 5 : 6).ExecuteAsync(new[] { first, second }, async (ctx, _) => await WriteNoteAsync(ctx, table, "set"), cancellationToken: Ct);

        Assert.Equal("set", await table.NoteAsync("doc"));
        Assert.Equal(5, await fence.TokenAsync(first));
        Assert.Equal(6, await fence.TokenAsync(second));
    }

    private static LockKey NewKey() => new("fenced", $"doc{Guid.NewGuid():N}");

    private static LockPipeline Pipeline(string name, long token, string fenceTable, bool enforceFencing)
        => new LockPipelineBuilder { Name = $"pg-fence-{name}", WaitTimeout = TimeSpan.FromSeconds(10) }
            .AddStage(new FencingTokenStage(token))
            .AddPostgresTransaction(Servers.Postgres, o =>
            {
                o.EnforceFencing = enforceFencing;
                o.FenceTable = fenceTable;
            })
            .Build();

    private static LockPipeline SetPipeline(string fenceTable, Func<LockKey, long> tokenOf)
        => new LockPipelineBuilder { Name = "pg-fence-set", WaitTimeout = TimeSpan.FromSeconds(10) }
            .AddStage(new KeySetFencingTokenStage(tokenOf))
            .AddPostgresTransaction(Servers.Postgres, o =>
            {
                o.EnforceFencing = true;
                o.FenceTable = fenceTable;
            })
            .Build();

    private static Task<int> WriteNoteAsync(LockContext context, PostgresTestTable table, string note)
    {
        var tx = context.GetRequiredFeature<PostgresTransactionFeature>();
        return tx.Connection.ExecuteAsync($"UPDATE \"{table.Name}\" SET note = @note WHERE id = 'doc'", new { note }, tx.Transaction);
    }

    private static Task<long> ReadValueAsync(LockContext context, PostgresTestTable table)
    {
        var tx = context.GetRequiredFeature<PostgresTransactionFeature>();
        return tx.Connection.ExecuteScalarAsync<long>($"SELECT value FROM \"{table.Name}\" WHERE id = 'doc'", transaction: tx.Transaction);
    }

    private static Task<int> WriteValueAsync(LockContext context, PostgresTestTable table, long value)
    {
        var tx = context.GetRequiredFeature<PostgresTransactionFeature>();
        return tx.Connection.ExecuteAsync($"UPDATE \"{table.Name}\" SET value = @value WHERE id = 'doc'", new { value }, tx.Transaction);
    }
}
