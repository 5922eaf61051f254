using DualLock.EntityFrameworkCore;
using DualLock.MySql;
using MySqlConnector;

namespace DualLock.Tests.EntityFrameworkCore;

/// <summary>What the EF Core stages read from the model and check when they are added; no server involved.</summary>
public sealed class EntityFrameworkCoreStageTests
{
    [Fact]
    public void RowTarget_PlainTableAndKeyColumn_AreTheMySqlRowLocksTableAndKeyColumn()
    {
        var options = Target<Wallet>();

        Assert.Equal("wallets", options.Table);
        Assert.Equal("wallet_id", options.KeyColumn);
        Assert.Null(options.Sql);
    }

    [Fact]
    public void RowTarget_NamesThatAreNotPlain_AreQuotedByTheProviderIntoALockingRead()
    {
        var options = Target<Seat>();

        Assert.Null(options.Table);
        Assert.Equal("SELECT 1 FROM `concert-seats` WHERE `seat no` = @id FOR UPDATE", options.Sql);
        Assert.Empty(options.Validate());
    }

    [Fact]
    public void RowTarget_NoWaitRetry_EndsTheQuotedReadWithNowait()
    {
        var options = Target<Seat>(o => o.WaitMode = MySqlRowLockWaitMode.NoWaitRetry);

        Assert.EndsWith("FOR UPDATE NOWAIT", options.Sql, StringComparison.Ordinal);
        Assert.Empty(options.Validate());
    }

    [Theory]
    [InlineData(typeof(Pair), "must have a primary key of one property in ModelDb (was Left, Right)")]
    [InlineData(typeof(Report), "must be mapped to a table in ModelDb")]
    [InlineData(typeof(NotMapped), "NotMapped must be an entity type of ModelDb's model")]
    public void AddRowLock_EntityWithoutOneRowPerKey_ThrowsNamingThePipelineAndWhy(Type entity, string expected)
    {
        var builder = new LockPipelineBuilder { Name = "charge" }.AddMySqlTransaction(ModelDb.ConnectionString);
        var add = typeof(EntityFrameworkCorePipelineBuilderExtensions).GetMethod(nameof(EntityFrameworkCorePipelineBuilderExtensions.AddEntityFrameworkCoreRowLock))!
            .MakeGenericMethod(typeof(ModelDb), entity);

        var ex = Assert.IsType<ArgumentException>(
            Assert.Throws<System.Reflection.TargetInvocationException>(() => add.Invoke(null, [builder, ModelDb.Factory(), null])).InnerException);

        Assert.Contains("Pipeline 'charge', stage 'mysql-row-lock'", ex.Message, StringComparison.Ordinal);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddRowLock_WithoutATransactionStage_BuildRefusesThePipeline()
    {
        var builder = new LockPipelineBuilder { Name = "charge" }.AddEntityFrameworkCoreRowLock<ModelDb, Wallet>(ModelDb.Factory());

        var ex = Assert.Throws<InvalidOperationException>(builder.Build);

        Assert.Contains("no stage added before it opens one", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddTransaction_RowLockInside_Builds()
    {
        var contexts = ModelDb.Factory();

        var pipeline = new LockPipelineBuilder { Name = "charge" }
            .AddEntityFrameworkCoreTransaction(contexts)
            .AddEntityFrameworkCoreRowLock<ModelDb, Wallet>(contexts)
            .Build();

        Assert.Equal("charge", pipeline.Name);
    }

    [Theory]
    [InlineData("AllowUserVariables=False", "AllowUserVariables=False;UseAffectedRows=False")]
    [InlineData("AllowUserVariables=True;UseAffectedRows=True", "AllowUserVariables=True;UseAffectedRows=True")]
    public void AddTransaction_ConnectionStringWithoutPomelosSettings_ThrowsNamingBothAndNotThePassword(string settings, string was)
    {
        var connectionString = "Server=127.0.0.1;Database=none;User ID=u;Password=hunter2-secret;" + settings;

        var ex = Assert.Throws<ArgumentException>(() => new LockPipelineBuilder { Name = "charge" }
            .AddEntityFrameworkCoreTransaction(ModelDb.Factory(), o => o.ConnectionString = connectionString));

        Assert.Contains("Pipeline 'charge', stage 'mysql-transaction'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("MySqlTransactionOptions.ConnectionString must set AllowUserVariables=True and UseAffectedRows=False", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"(was '{was}')", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddTransaction_ContextRetriesOnFailure_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => new LockPipelineBuilder { Name = "charge" }
            .AddEntityFrameworkCoreTransaction(ModelDb.Factory(retry: true)));

        Assert.Contains("ModelDb must not enable retries on failure (EnableRetryOnFailure)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddTransaction_InvalidTransactionOptions_ListsThemWithThePomeloProblem()
    {
        var ex = Assert.Throws<ArgumentException>(() => new LockPipelineBuilder { Name = "charge" }
            .AddEntityFrameworkCoreTransaction(ModelDb.Factory(), o =>
            {
                o.ConnectionString = "Server=127.0.0.1;AllowUserVariables=False";
                o.EnforceFencing = true;
                o.FenceTable = "bad name";
            }));

        Assert.Contains("2 invalid option problems", ex.Message, StringComparison.Ordinal);
        Assert.Contains("MySqlTransactionOptions.FenceTable must be a plain SQL identifier", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ConnectionStringCheck_BothSettingsRight_HasNoProblem()
    {
        var problems = new List<string>();

        DbContextChecks.ConnectionString(new MySqlTransactionOptions { ConnectionString = new MySqlConnectionStringBuilder(ModelDb.ConnectionString).ConnectionString }, problems);

        Assert.Empty(problems);
    }

    [Fact]
    public async Task GetDbContext_NoStageEnlistsOne_ThrowsNamingTheStageToAdd()
    {
        var pipeline = new LockPipelineBuilder { Name = "plain" }.AddNoLock().Build();

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await pipeline.ExecuteAsync(new LockKey("wallet", 1L), (context, _) =>
            {
                context.GetDbContext<ModelDb>();
                return ValueTask.CompletedTask;
            }, cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains("No stage of pipeline 'plain' enlists a ModelDb: add AddEntityFrameworkCoreTransaction<ModelDb>", ex.Message, StringComparison.Ordinal);
    }

    private static MySqlRowLockOptions Target<TEntity>(Action<MySqlRowLockOptions>? configure = null)
    {
        var options = new MySqlRowLockOptions();
        configure?.Invoke(options);
        var problems = new List<string>();
        using var db = ModelDb.Factory().CreateDbContext();
        EntityRowTarget.Apply(db, typeof(TEntity), options, problems);
        Assert.Empty(problems);
        return options;
    }
}
