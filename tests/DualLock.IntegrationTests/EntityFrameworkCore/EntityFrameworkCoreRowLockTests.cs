using Dapper;
using DualLock.MySql;
using Microsoft.EntityFrameworkCore;

namespace DualLock.IntegrationTests.EntityFrameworkCore;

/// <summary>
/// The row lock keyed by an entity, its table and key column from the EF model: it serialises read-modify-write
/// callers that write through EF Core (and without it they lose updates), and it behaves as the MySQL row lock does.
/// </summary>
public sealed class EntityFrameworkCoreRowLockTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RowLock_TwoConcurrentReadModifyWrites_NoUpdateIsLost()
    {
        var id = await AccountDb.NewAccountAsync(0);

        // The other caller cannot read while this one holds the row: each waits a while for it, then writes.
        await TwoReadModifyWritesAsync(id, RowLocked("ef-row-lock"), TimeSpan.FromMilliseconds(500));

        Assert.Equal(2, await AccountDb.BalanceAsync(id));
    }

    /// <summary>The negative control: the same callers in the same EF transaction, without the row lock, lose one update.</summary>
    [Fact]
    public async Task NoRowLock_TwoConcurrentReadModifyWrites_LoseAnUpdate()
    {
        var id = await AccountDb.NewAccountAsync(0);
        var unlocked = new LockPipelineBuilder { Name = "ef-no-row-lock", WaitTimeout = TimeSpan.FromSeconds(10) }
            .AddEntityFrameworkCoreTransaction(AccountDb.Factory())
            .Build();

        // Nothing stops the other caller's read: each waits for it (however slow its first EF query), so both read 0.
        await TwoReadModifyWritesAsync(id, unlocked, TimeSpan.FromSeconds(20));

        Assert.Equal(1, await AccountDb.BalanceAsync(id));
    }

    [Fact]
    public async Task RowLock_EntityRowMissing_ThrowsRowNotFoundAndTheWorkDoesNotRun()
    {
        var missing = $"ef{Guid.NewGuid():N}";
        await AccountDb.NewAccountAsync(); // the table exists; this key's row does not
        var workRan = false;

        var ex = await Assert.ThrowsAsync<MySqlRowNotFoundException>(async () =>
            await RowLocked("ef-missing").ExecuteAsync(new LockKey("account", missing), (_, _) =>
            {
                workRan = true;
                return ValueTask.CompletedTask;
            }, cancellationToken: Ct));

        Assert.False(workRan);
        Assert.Equal($"`{AccountDb.Table}`.`id`", ex.Target);
    }

    [Fact]
    public async Task RowLock_RowHeldByAnotherTransaction_TimesOutWithinTheWait()
    {
        var id = await AccountDb.NewAccountAsync(0);
        await using var holder = await Servers.OpenMySqlAsync(Ct);
        await using var held = await holder.BeginTransactionAsync(Ct);
        await holder.ExecuteAsync($"SELECT 1 FROM `{AccountDb.Table}` WHERE id = @id FOR UPDATE", new { id }, held);
        var workRan = false;

        var ex = await Assert.ThrowsAsync<LockTimeoutException>(async () =>
            await RowLocked("ef-held").ExecuteAsync(new LockKey("account", id), (_, _) =>
            {
                workRan = true;
                return ValueTask.CompletedTask;
            }, TimeSpan.FromMilliseconds(300), Ct));

        Assert.False(workRan);
        Assert.Equal("mysql-row-lock", ex.Stage);
    }

    private static LockPipeline RowLocked(string name)
    {
        var contexts = AccountDb.Factory();
        return new LockPipelineBuilder { Name = name, WaitTimeout = TimeSpan.FromSeconds(10) }
            .AddEntityFrameworkCoreTransaction(contexts)
            .AddEntityFrameworkCoreRowLock<AccountDb, Account>(contexts)
            .Build();
    }

    /// <summary>
    /// Two callers each read the balance through EF Core, wait until the other has read too (at most
    /// <paramref name="otherReadWait"/>: the other cannot read while it waits for the lock), and write read + 1 through EF Core.
    /// </summary>
    private static async Task TwoReadModifyWritesAsync(string id, LockPipeline pipeline, TimeSpan otherReadWait)
    {
        var reads = new CountdownEvent(2);
        async Task CallerAsync()
        {
            await pipeline.ExecuteAsync(new LockKey("account", id), async (context, ct) =>
            {
                var db = context.GetDbContext<AccountDb>();
                var account = await db.Accounts.SingleAsync(a => a.Id == id, ct);
                reads.Signal();
                await Task.Run(() => reads.Wait(otherReadWait, ct), ct);
                account.Balance += 1;
                await db.SaveChangesAsync(ct);
            }, cancellationToken: Ct);
        }

        await Task.WhenAll(Task.Run(CallerAsync, Ct), Task.Run(CallerAsync, Ct));
    }
}
