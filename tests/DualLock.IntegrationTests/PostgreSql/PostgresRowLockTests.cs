using System.Diagnostics;
using Dapper;
using DualLock.PostgreSql;
using Npgsql;

namespace DualLock.IntegrationTests.PostgreSql;

public sealed class PostgresRowLockTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static LockPipeline RowLockPipeline(string table, TimeSpan wait)
        => new LockPipelineBuilder { Name = "pg-row", WaitTimeout = wait }
            .AddPostgresTransaction(Servers.Postgres)
            .AddPostgresRowLock(table, "id")
            .Build();

    [Fact]
    public async Task ExecuteAsync_RowHeldElsewhere_TimesOutWith55P03AndHolderDataUnchanged()
    {
        await using var table = await PostgresTestTable.CreateAsync("a");
        var pipeline = RowLockPipeline(table.Name, TimeSpan.FromSeconds(1));
        var key = new LockKey("counter", "a");

        await using (var holder = await Servers.OpenPostgresAsync(Ct))
        await using (var holderTx = await holder.BeginTransactionAsync(Ct))
        {
            await holder.ExecuteAsync($"UPDATE \"{table.Name}\" SET value = 7 WHERE id = 'a'", transaction: holderTx);

            var ex = await Assert.ThrowsAsync<LockTimeoutException>(async () =>
                await pipeline.ExecuteAsync(key, async (ctx, ct) =>
                {
                    var tx = ctx.GetRequiredFeature<PostgresTransactionFeature>();
                    await tx.Connection.ExecuteAsync($"UPDATE \"{table.Name}\" SET value = 99 WHERE id = 'a'", transaction: tx.Transaction);
                }, cancellationToken: Ct));

            Assert.Equal("postgres-row-lock", ex.Stage);
            Assert.Equal("55P03", Assert.IsType<PostgresException>(ex.InnerException).SqlState);
            await holderTx.CommitAsync(Ct);
        }

        // The holder's write stands; the timed-out caller's never ran.
        Assert.Equal(7, await table.ValueAsync("a"));
    }

    [Fact]
    public async Task ExecuteAsync_ZeroWaitOnHeldRow_FailsAtOnceWithNoWait55P03()
    {
        await using var table = await PostgresTestTable.CreateAsync("a");
        var pipeline = RowLockPipeline(table.Name, TimeSpan.FromSeconds(10));
        await using var holder = await Servers.OpenPostgresAsync(Ct);
        await using var holderTx = await holder.BeginTransactionAsync(Ct);
        await holder.ExecuteAsync($"SELECT 1 FROM \"{table.Name}\" WHERE id = 'a' FOR UPDATE", transaction: holderTx);
        var workRan = false;
        var watch = Stopwatch.StartNew();

        var ex = await Assert.ThrowsAsync<LockTimeoutException>(async () =>
            await pipeline.ExecuteAsync(new LockKey("counter", "a"), (_, _) =>
            {
                workRan = true;
                return ValueTask.CompletedTask;
            }, TimeSpan.Zero, Ct));

        // The server refused at once (NOWAIT); a client-side deadline would carry no PostgresException.
        Assert.Equal("55P03", Assert.IsType<PostgresException>(ex.InnerException).SqlState);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"a try-once took {watch.Elapsed}");
        Assert.False(workRan);
    }

    [Fact]
    public async Task ExecuteAsync_MissingRow_ThrowsRowNotFoundAndTheWorkDoesNotRun()
    {
        await using var table = await PostgresTestTable.CreateAsync("a");
        var workRan = false;

        var ex = await Assert.ThrowsAsync<PostgresRowNotFoundException>(async () =>
            await RowLockPipeline(table.Name, TimeSpan.FromSeconds(1)).ExecuteAsync(new LockKey("counter", "missing"), (_, _) =>
            {
                workRan = true;
                return ValueTask.CompletedTask;
            }, cancellationToken: Ct));

        Assert.False(workRan);
        Assert.Equal("postgres-row-lock", ex.Stage);
        Assert.Equal($"\"{table.Name}\".\"id\"", ex.Target);
        Assert.DoesNotContain("missing", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>While the work runs another session cannot lock the row (NOWAIT fails); after the commit it can.</summary>
    [Fact]
    public async Task ExecuteAsync_RowStaysLockedUntilTheCommit()
    {
        await using var table = await PostgresTestTable.CreateAsync("a");
        string? probeDuringWork = null;

        await RowLockPipeline(table.Name, TimeSpan.FromSeconds(1)).ExecuteAsync(new LockKey("counter", "a"), async (ctx, ct) =>
        {
            probeDuringWork = await ProbeNoWaitAsync(table.Name);
            var tx = ctx.GetRequiredFeature<PostgresTransactionFeature>();
            await tx.Connection.ExecuteAsync($"UPDATE \"{table.Name}\" SET value = value + 1 WHERE id = 'a'", transaction: tx.Transaction);
        }, cancellationToken: Ct);

        Assert.Equal("55P03", probeDuringWork);
        Assert.Null(await ProbeNoWaitAsync(table.Name));
        Assert.Equal(1, await table.ValueAsync("a"));
    }

    [Fact]
    public async Task ExecuteAsync_KeySetWithOneMissingRow_ThrowsRowNotFoundAndWritesNothing()
    {
        await using var table = await PostgresTestTable.CreateAsync("a", "b");
        var workRan = false;

        await Assert.ThrowsAsync<PostgresRowNotFoundException>(async () =>
            await RowLockPipeline(table.Name, TimeSpan.FromSeconds(1)).ExecuteAsync(
                new[] { new LockKey("counter", "a"), new LockKey("counter", "b"), new LockKey("counter", "c") },
                (_, _) =>
                {
                    workRan = true;
                    return ValueTask.CompletedTask;
                },
                cancellationToken: Ct));

        Assert.False(workRan);

        // The rows that were found were locked by the refused transaction; its rollback let them go.
        Assert.Null(await ProbeNoWaitAsync(table.Name));
    }

    /// <summary>Tries to lock row 'a' from a session of its own; null when it could, else the SQLSTATE.</summary>
    private static async Task<string?> ProbeNoWaitAsync(string table)
    {
        await using var probe = await Servers.OpenPostgresAsync(Ct);
        await using var probeTx = await probe.BeginTransactionAsync(Ct);
        try
        {
            await probe.ExecuteAsync($"SELECT 1 FROM \"{table}\" WHERE id = 'a' FOR UPDATE NOWAIT", transaction: probeTx);
            return null;
        }
        catch (PostgresException ex)
        {
            return ex.SqlState;
        }
    }
}
