using DualLock.IntegrationTests.MySql;
using DualLock.MySql;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using MySqlConnector;

namespace DualLock.IntegrationTests.EntityFrameworkCore;

/// <summary>
/// The DbContext enlisted in the lock's transaction, on the real MariaDB through Pomelo: what the work writes with
/// EF Core commits with the transaction, rolls back with it, and is fenced at BEGIN like a raw write.
/// </summary>
public sealed class EntityFrameworkCoreTransactionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Work_WritesThroughDbContext_CommitsInTheLocksTransaction()
    {
        var id = await AccountDb.NewAccountAsync(100);
        var pipeline = Pipeline("ef-write", AccountDb.Factory());

        await pipeline.ExecuteAsync(new LockKey("account", id), async (context, ct) =>
        {
            var db = context.GetDbContext<AccountDb>();
            var transaction = context.GetRequiredFeature<MySqlTransactionFeature>();
            Assert.Same(transaction.Connection, db.Database.GetDbConnection());
            Assert.Same(transaction.Transaction, db.Database.CurrentTransaction?.GetDbTransaction());

            var account = await db.Accounts.SingleAsync(a => a.Id == id, ct);
            account.Balance += 5;
            await db.SaveChangesAsync(ct);

            // Saved in the transaction, not committed: a connection of its own still reads the old balance.
            Assert.Equal(100, await AccountDb.BalanceAsync(id));
        }, cancellationToken: Ct);

        Assert.Equal(105, await AccountDb.BalanceAsync(id));
    }

    [Fact]
    public async Task Work_ThrowsAfterSaving_EfWritesAreRolledBack()
    {
        var id = await AccountDb.NewAccountAsync(100);
        var inserted = $"ef{Guid.NewGuid():N}";
        var pipeline = Pipeline("ef-rollback", AccountDb.Factory());

        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await pipeline.ExecuteAsync(new LockKey("account", id), async (context, ct) =>
            {
                var db = context.GetDbContext<AccountDb>();
                (await db.Accounts.SingleAsync(a => a.Id == id, ct)).Balance = 0;
                db.Accounts.Add(new Account { Id = inserted, Balance = 1 });
                await db.SaveChangesAsync(ct);
                throw new InvalidOperationException("the work failed after saving");
            }, cancellationToken: Ct));

        Assert.Equal(100, await AccountDb.BalanceAsync(id));
        Assert.Null(await AccountDb.BalanceAsync(inserted));
    }

    [Fact]
    public async Task Work_ReturnsWithUnsavedChanges_StageSavesThemBeforeTheCommit()
    {
        var id = await AccountDb.NewAccountAsync(100);
        var pipeline = Pipeline("ef-unsaved", AccountDb.Factory());

        await pipeline.ExecuteAsync(new LockKey("account", id), async (context, ct) =>
        {
            var db = context.GetDbContext<AccountDb>();
            (await db.Accounts.SingleAsync(a => a.Id == id, ct)).Balance -= 30; // no SaveChanges
        }, cancellationToken: Ct);

        Assert.Equal(70, await AccountDb.BalanceAsync(id));
    }

    [Fact]
    public async Task Release_SaveOfUnsavedChangesFails_RollsBackWhatWasSavedAndThrows()
    {
        var id = await AccountDb.NewAccountAsync(100);
        var existing = await AccountDb.NewAccountAsync(7);
        var pipeline = Pipeline("ef-save-fails", AccountDb.Factory());

        // The stage's own save hits a duplicate key: the caller gets that failure, and the write saved before it is not kept.
        await Assert.ThrowsAsync<DbUpdateException>(async () =>
            await pipeline.ExecuteAsync(new LockKey("account", id), async (context, ct) =>
            {
                var db = context.GetDbContext<AccountDb>();
                (await db.Accounts.SingleAsync(a => a.Id == id, ct)).Balance = 1;
                await db.SaveChangesAsync(ct);
                db.Accounts.Add(new Account { Id = existing, Balance = 0 });
            }, cancellationToken: Ct));

        Assert.Equal(100, await AccountDb.BalanceAsync(id));
        Assert.Equal(7, await AccountDb.BalanceAsync(existing));
    }

    [Fact]
    public async Task PooledFactory_ContextAfterTheLock_IsNotLeftOnTheLocksConnection()
    {
        var id = await AccountDb.NewAccountAsync(100);
        var pooled = AccountDb.Pooled();
        var pipeline = Pipeline("ef-pooled", pooled);
        MySqlConnection? lockConnection = null;

        for (var i = 0; i < 3; i++)
        {
            await pipeline.ExecuteAsync(new LockKey("account", id), async (context, ct) =>
            {
                var db = context.GetDbContext<AccountDb>();
                lockConnection = context.GetRequiredFeature<MySqlTransactionFeature>().Connection;
                (await db.Accounts.SingleAsync(a => a.Id == id, ct)).Balance += 1;
            }, cancellationToken: Ct);
        }

        // Outside any lock, a context of the same pool works on a connection of its own, with no transaction left on it.
        await using (var db = await pooled.CreateDbContextAsync(Ct))
        {
            Assert.Equal(103, (await db.Accounts.SingleAsync(a => a.Id == id, Ct)).Balance);
            Assert.NotSame(lockConnection, db.Database.GetDbConnection());
            Assert.Null(db.Database.CurrentTransaction);
        }

        Assert.Equal(103, await AccountDb.BalanceAsync(id));
    }

    [Fact]
    public async Task Begin_FencedTokenLowerThanRecorded_IsRefusedBeforeTheEfWorkRuns()
    {
        var id = await AccountDb.NewAccountAsync(100);
        await using var fence = await FenceTable.CreateAsync();
        var key = new LockKey("account", id);
        await FencedPipeline("ef-newer", new FencingTokenStage(10), fence.Name)
            .ExecuteAsync(key, async (context, ct) => (await context.GetDbContext<AccountDb>().Accounts.SingleAsync(a => a.Id == id, ct)).Balance = 110, cancellationToken: Ct);
        var workRan = false;

        var ex = await Assert.ThrowsAsync<LockLeaseLostException>(async () =>
            await FencedPipeline("ef-older", new FencingTokenStage(9), fence.Name).ExecuteAsync(key, async (context, ct) =>
            {
                workRan = true;
                (await context.GetDbContext<AccountDb>().Accounts.SingleAsync(a => a.Id == id, ct)).Balance = 0;
            }, cancellationToken: Ct));

        Assert.False(workRan, "the stale holder's EF work ran: the fence was not compared when the transaction began");
        Assert.Equal("mysql-transaction", ex.Stage);
        Assert.Equal(110, await AccountDb.BalanceAsync(id));
        Assert.Equal(10, await fence.TokenAsync(key));
    }

    /// <summary>What the check at add time prevents: Pomelo, handed the lock's open connection without the settings, refuses it.</summary>
    [Fact]
    public async Task EnlistWithoutTheCheck_ConnectionWithoutUserVariables_PomeloRefusesItAtRunTime()
    {
        var settings = new MySqlConnectionStringBuilder(Servers.MySql) { AllowUserVariables = false };
        await using var connection = new MySqlConnection(settings.ConnectionString);
        await connection.OpenAsync(Ct);
        await using var db = new AccountDb(AccountDb.Options());

        var ex = Assert.Throws<InvalidOperationException>(() => db.Database.SetDbConnection(connection, contextOwnsConnection: false));

        Assert.Contains("AllowUserVariables=True;UseAffectedRows=False", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Add_ConnectionStringWithoutUserVariables_ThrowsNamingBothSettingsAndThePipeline()
    {
        var settings = new MySqlConnectionStringBuilder(Servers.MySql) { AllowUserVariables = false };

        var ex = Assert.Throws<ArgumentException>(() => new LockPipelineBuilder { Name = "ef-settings" }
            .AddEntityFrameworkCoreTransaction(AccountDb.Factory(), o => o.ConnectionString = settings.ConnectionString));

        Assert.Contains("Pipeline 'ef-settings', stage 'mysql-transaction'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("AllowUserVariables=True and UseAffectedRows=False", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(settings.Password, ex.Message, StringComparison.Ordinal);
    }

    /// <summary>Without a connection string of its own the stage takes the context's, which Pomelo has already given both settings.</summary>
    [Fact]
    public async Task Add_NoConnectionStringAndContextsLacksUserVariables_UsesTheContextsAndWrites()
    {
        var id = await AccountDb.NewAccountAsync(100);
        var settings = new MySqlConnectionStringBuilder(Servers.MySql) { AllowUserVariables = false };
        var pipeline = Pipeline("ef-context-settings", AccountDb.Factory(settings.ConnectionString));

        await pipeline.ExecuteAsync(new LockKey("account", id), async (context, ct) =>
            (await context.GetDbContext<AccountDb>().Accounts.SingleAsync(a => a.Id == id, ct)).Balance = 1, cancellationToken: Ct);

        Assert.Equal(1, await AccountDb.BalanceAsync(id));
    }

    private static LockPipeline Pipeline(string name, IDbContextFactory<AccountDb> contexts)
        => new LockPipelineBuilder { Name = name, WaitTimeout = TimeSpan.FromSeconds(10) }
            .AddEntityFrameworkCoreTransaction(contexts)
            .Build();

    private static LockPipeline FencedPipeline(string name, FencingTokenStage outer, string fenceTable)
        => new LockPipelineBuilder { Name = name, WaitTimeout = TimeSpan.FromSeconds(10) }
            .AddStage(outer)
            .AddEntityFrameworkCoreTransaction(AccountDb.Factory(), o =>
            {
                o.EnforceFencing = true;
                o.FenceTable = fenceTable;
            })
            .Build();
}
