using Dapper;
using DualLock.IntegrationTests.PostgreSql;
using DualLock.MySql;

namespace DualLock.IntegrationTests.MySql;

/// <summary>
/// EnforceFencing over a key set on MariaDB: the transaction fences each key with that key's token, so an outer stage
/// that reports one <see cref="LockStageHandle.FencingToken"/> for the whole set gives no key a token. The execution
/// must then fail before the work runs instead of running unfenced (fail closed).
/// </summary>
public sealed class MySqlKeySetFencingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>
    /// A newer holder (token 10) has been through one key of the set; the stale holder's outer stage gives the set a
    /// single token (9). Before the fix the transaction fenced no key and the stale work overwrote the newer write.
    /// </summary>
    [Fact]
    public async Task KeySet_OuterStageGivesOneTokenForTheSet_FailsBeforeTheWorkRunsAndNothingIsWritten()
    {
        await using var table = await MySqlTestTable.CreateAsync("doc");
        await using var fence = await FenceTable.CreateAsync();
        var fresh = NewKey();
        var stale = NewKey();
        await SingleTokenPipeline(10, fence.Name).ExecuteAsync(stale, async (ctx, _) => await WriteNoteAsync(ctx, table, "newer"), cancellationToken: Ct);
        var workRan = false;

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await SingleTokenPipeline(9, fence.Name).ExecuteAsync(new[] { fresh, stale }, async (ctx, _) =>
            {
                workRan = true;
                await WriteNoteAsync(ctx, table, "older");
            }, cancellationToken: Ct));

        Assert.False(workRan, "the work ran although no key of the set carried a fencing token: EnforceFencing fenced nothing");
        Assert.Contains("'mysql-transaction'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("2 of the 2 keys", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'fenced'", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(stale.Id, ex.Message, StringComparison.Ordinal); // ids may be personal data
        Assert.Equal("newer", await table.NoteAsync("doc"));
        Assert.Null(await fence.TokenAsync(fresh));
        Assert.Equal(10, await fence.TokenAsync(stale));
    }

    /// <summary>Control: the same stale holder with one token per key is refused by the fence itself.</summary>
    [Fact]
    public async Task KeySet_OuterStageGivesATokenPerKey_StaleKeyIsRefusedByTheFence()
    {
        await using var table = await MySqlTestTable.CreateAsync("doc");
        await using var fence = await FenceTable.CreateAsync();
        var fresh = NewKey();
        var stale = NewKey();
        await SingleTokenPipeline(10, fence.Name).ExecuteAsync(stale, async (ctx, _) => await WriteNoteAsync(ctx, table, "newer"), cancellationToken: Ct);
        var workRan = false;

        var ex = await Assert.ThrowsAsync<LockLeaseLostException>(async () =>
            await PerKeyTokenPipeline(_ => 9, fence.Name).ExecuteAsync(new[] { fresh, stale }, async (ctx, _) =>
            {
                workRan = true;
                await WriteNoteAsync(ctx, table, "older");
            }, cancellationToken: Ct));

        Assert.False(workRan);
        Assert.Equal(9, ex.RefusedFencingToken);
        Assert.Equal(10, ex.NewerFencingToken);
        Assert.Equal("newer", await table.NoteAsync("doc"));
        Assert.Null(await fence.TokenAsync(fresh)); // rolled back with the refused transaction
    }

    /// <summary>Control: current per-key tokens pass, every key's token is recorded and the work commits.</summary>
    [Fact]
    public async Task KeySet_OuterStageGivesCurrentTokenPerKey_CommitsAndRecordsEachToken()
    {
        await using var table = await MySqlTestTable.CreateAsync("doc");
        await using var fence = await FenceTable.CreateAsync();
        var first = NewKey();
        var second = NewKey();

        await PerKeyTokenPipeline(k => k == first ? 5 : 6, fence.Name).ExecuteAsync(new[] { first, second }, async (ctx, _) => await WriteNoteAsync(ctx, table, "set"), cancellationToken: Ct);

        Assert.Equal("set", await table.NoteAsync("doc"));
        Assert.Equal(5, await fence.TokenAsync(first));
        Assert.Equal(6, await fence.TokenAsync(second));
    }

    private static LockKey NewKey() => new("fenced", $"doc{Guid.NewGuid():N}");

    private static LockPipeline SingleTokenPipeline(long token, string fenceTable)
        => Fenced(new LockPipelineBuilder { Name = "mysql-fence-one-token", WaitTimeout = TimeSpan.FromSeconds(10) }.AddStage(new FencingTokenStage(token)), fenceTable);

    private static LockPipeline PerKeyTokenPipeline(Func<LockKey, long> tokenOf, string fenceTable)
        => Fenced(new LockPipelineBuilder { Name = "mysql-fence-per-key", WaitTimeout = TimeSpan.FromSeconds(10) }.AddStage(new KeySetFencingTokenStage(tokenOf)), fenceTable);

    private static LockPipeline Fenced(LockPipelineBuilder builder, string fenceTable)
        => builder.AddMySqlTransaction(Servers.MySql, o =>
            {
                o.EnforceFencing = true;
                o.FenceTable = fenceTable;
            })
            .Build();

    private static Task<int> WriteNoteAsync(LockContext context, MySqlTestTable table, string note)
    {
        var tx = context.GetRequiredFeature<MySqlTransactionFeature>();
        return tx.Connection.ExecuteAsync($"UPDATE `{table.Name}` SET note = @note WHERE id = 'doc'", new { note }, tx.Transaction);
    }
}
