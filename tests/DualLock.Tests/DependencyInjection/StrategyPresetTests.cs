using DualLock.MySql;
using Microsoft.Extensions.DependencyInjection;

namespace DualLock.Tests.DependencyInjection;

/// <summary>Each preset builds the expected stages in order, keyed and default resolution, precise errors for bad options.</summary>
public sealed class StrategyPresetTests
{
    // Nothing connects while a pipeline is built; Redis gets an address that refuses, without aborting.
    private const string ConnectionString = "Server=127.0.0.1;Port=1;User ID=u;Password=p;Database=d";
    private const string DeadRedis = "127.0.0.1:1,abortConnect=false,connectTimeout=100";

    [Fact]
    public void AddInProcessStrategy_ResolvesKeyedStrategyWithOneInProcessStage()
    {
        using var services = Build(b => b.AddInProcessStrategy("local", o => o.MaxQueueLength = 8));
        var strategy = services.GetRequiredKeyedService<ILockStrategy>("local");
        var pipeline = Assert.IsType<LockPipeline>(strategy);
        Assert.Equal("local", strategy.Name);
        Assert.Equal(["in-process"], pipeline.StageNames);
        Assert.Same(pipeline, services.GetRequiredKeyedService<LockPipeline>("local"));
    }

    [Fact]
    public void AddPessimisticStrategy_TransactionThenRowLock()
    {
        using var services = Build(b => b.AddPessimisticStrategy("charge", o =>
        {
            o.ConnectionString = ConnectionString;
            o.Table = "user_points";
            o.KeyColumn = "user_id";
        }));
        Assert.Equal(["mysql-transaction", "mysql-row-lock"], Stages(services, "charge"));
    }

    [Fact]
    public void AddNamedLockStrategy_NamedLockOutsideTransaction()
    {
        using var services = Build(b => b.AddNamedLockStrategy("named", o => o.ConnectionString = ConnectionString));
        Assert.Equal(["mysql-named-lock", "mysql-transaction"], Stages(services, "named"));
    }

    [Fact]
    public void AddDistributedStrategy_RedisOutsideFencedTransaction()
    {
        using var services = Build(b => b.AddRedis(DeadRedis).AddDistributedStrategy(
            "distributed",
            (p, _) => p.AddMySqlTransaction(ConnectionString, o => o.EnforceFencing = true),
            o => o.KeyPrefix = "preset"));
        Assert.Equal(["redis", "mysql-transaction"], Stages(services, "distributed"));
    }

    [Fact]
    public void AddDistributedStrategy_TransactionWithoutFencing_FailsAtFirstResolveNamingTheTransaction()
    {
        // Redis with a bare transaction inside and no row lock: a holder paused past its Redis lease commits
        // over its successor, and nothing in the database stops it. The preset promises a fenced transaction.
        using var services = Build(b => b.AddRedis(DeadRedis).AddDistributedStrategy("distributed", (p, _) => p.AddMySqlTransaction(ConnectionString)));
        var ex = Assert.Throws<InvalidOperationException>(() => services.GetRequiredKeyedService<ILockStrategy>("distributed"));
        Assert.Contains("Stage 'mysql-transaction' of pipeline 'distributed' opens a transaction inside the fencing-token lock 'redis' without enforcing its token", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddDistributedStrategy_DatabasePartWithoutTransaction_Builds()
    {
        // Work that checks ctx.FencingToken itself (another store) opens no transaction: nothing to refuse.
        using var services = Build(b => b.AddRedis(DeadRedis).AddDistributedStrategy("distributed", (p, _) => p.AddNoLock()));
        Assert.Equal(["redis", "none"], Stages(services, "distributed"));
    }

    [Fact]
    public void AddDualStrategy_RedisOutsideTransactionAndRowLock()
    {
        using var services = Build(b => b.AddRedis(DeadRedis).AddDualStrategy(
            "dual",
            (p, _) => p.AddMySqlTransaction(ConnectionString, o => o.EnforceFencing = true).AddMySqlRowLock("user_points", "user_id")));
        Assert.Equal(["redis", "mysql-transaction", "mysql-row-lock"], Stages(services, "dual"));
    }

    [Fact]
    public void AddDualStrategy_DatabasePartWithoutLock_FailsAtFirstResolveNamingTheFallback()
    {
        using var services = Build(b => b.AddRedis(DeadRedis).AddDualStrategy("dual", (p, _) => p.AddMySqlTransaction(ConnectionString)));
        var ex = Assert.Throws<InvalidOperationException>(() => services.GetRequiredKeyedService<ILockStrategy>("dual"));
        Assert.Contains("Stage 'redis' of pipeline 'dual' continues when its lock service is unavailable", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddDistributedStrategy_WithoutAddRedis_FailsAtFirstResolveSayingWhatToCall()
    {
        using var services = Build(b => b.AddDistributedStrategy("distributed", (p, _) => p.AddMySqlTransaction(ConnectionString, o => o.EnforceFencing = true)));
        var ex = Assert.Throws<InvalidOperationException>(() => services.GetRequiredKeyedService<ILockStrategy>("distributed"));
        Assert.Contains("AddRedis(connectionString)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddPessimisticStrategy_MissingConnectionString_FailsAtFirstResolveNamingStrategyAndOption()
    {
        using var services = Build(b => b.AddPessimisticStrategy("charge", o =>
        {
            o.Table = "user_points";
            o.KeyColumn = "user_id";
        }));
        var ex = Assert.Throws<ArgumentException>(() => services.GetRequiredKeyedService<ILockStrategy>("charge"));
        Assert.StartsWith("Pipeline 'charge', stage 'mysql-transaction': 1 invalid option problem:", ex.Message, StringComparison.Ordinal);
        Assert.Contains("- MySqlTransactionOptions.ConnectionString must not be empty (was null).", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddPessimisticStrategy_UnsafeTable_FailsAtFirstResolveNamingTheOption()
    {
        using var services = Build(b => b.AddPessimisticStrategy("charge", o =>
        {
            o.ConnectionString = ConnectionString;
            o.Table = "user_points; DROP TABLE x";
            o.KeyColumn = "user_id";
        }));
        var ex = Assert.Throws<ArgumentException>(() => services.GetRequiredKeyedService<ILockStrategy>("charge"));
        Assert.StartsWith("Pipeline 'charge', stage 'mysql-row-lock': 1 invalid option problem:", ex.Message, StringComparison.Ordinal);
        Assert.Contains("- MySqlRowLockOptions.Table must be a plain SQL identifier", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddInProcessStrategy_InvalidQueueLength_FailsAtFirstResolve()
    {
        using var services = Build(b => b.AddInProcessStrategy("local", o => o.MaxQueueLength = 0));
        var ex = Assert.Throws<ArgumentException>(() => services.GetRequiredKeyedService<ILockStrategy>("local"));
        Assert.Equal($"Pipeline 'local', stage 'in-process': 1 invalid option problem:{Environment.NewLine}- InProcessLockOptions.MaxQueueLength must be at least 1 (was 0). (Parameter 'options')", ex.Message);
    }

    [Fact]
    public void AddOptimisticStrategy_RegistersALockStrategyThatRerunsOnConflict_AndBadOptionsFailAtResolve()
    {
        using var services = Build(b => b
            .AddOptimisticStrategy("optimistic", o => o.ConnectionString = ConnectionString)
            .AddOptimisticStrategy("broken", o =>
            {
                o.ConnectionString = ConnectionString;
                o.MaxAttempts = 0;
            }));
        Assert.Equal("optimistic", services.GetRequiredKeyedService<ILockStrategy>("optimistic").Name);
        var ex = Assert.Throws<ArgumentException>(() => services.GetRequiredKeyedService<ILockStrategy>("broken"));
        Assert.StartsWith("Strategy 'broken': 1 invalid option problem:", ex.Message, StringComparison.Ordinal);
        Assert.Contains("- MySqlOptimisticOptions.MaxAttempts must be between 1 and 10000 (was 0).", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DefaultStrategy_IsTheFirstRegistered()
    {
        using var services = Build(b => b.AddInProcessStrategy("first").AddInProcessStrategy("second"));
        Assert.Same(services.GetRequiredKeyedService<ILockStrategy>("first"), services.GetRequiredService<ILockStrategy>());
    }

    [Fact]
    public void DefaultStrategy_SetDefault_WinsOverFirstRegistered_AcrossAddDualLockCalls()
    {
        var collection = new ServiceCollection();
        collection.AddDualLock().AddInProcessStrategy("first");
        collection.AddDualLock().AddInProcessStrategy("second").SetDefault("second");
        using var services = collection.BuildServiceProvider();
        Assert.Equal("second", services.GetRequiredService<ILockStrategy>().Name);
        Assert.Single(services.GetServices<ILockStrategy>());
    }

    [Fact]
    public void DefaultStrategy_NoneRegistered_FailsSayingHowToRegister()
    {
        using var services = Build(_ => { });
        var ex = Assert.Throws<InvalidOperationException>(() => services.GetRequiredService<ILockStrategy>());
        Assert.Contains("No lock strategy is registered", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DefaultStrategy_SetDefaultToUnknownName_FailsNamingIt()
    {
        using var services = Build(b => b.AddInProcessStrategy("local").SetDefault("charge"));
        var ex = Assert.Throws<InvalidOperationException>(() => services.GetRequiredService<ILockStrategy>());
        Assert.Contains("'charge' (named by SetDefault)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddInProcessStrategy_ExecutesWithPerCallWait()
    {
        using var services = Build(b => b.AddInProcessStrategy("local"));
        var strategy = services.GetRequiredService<ILockStrategy>();
        var key = new LockKey("user-point", 42L);
        var held = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        var holder = strategy.ExecuteAsync(key, async (_, _) =>
        {
            held.SetResult();
            await release.Task;
        }).AsTask();
        await held.Task;

        var attempt = await strategy.TryExecuteAsync(new LockKey("user-point", "42"), (_, _) => ValueTask.FromResult(1), TimeSpan.Zero);
        Assert.False(attempt.Acquired);
        release.SetResult();
        await holder;
        Assert.Equal(2, await strategy.ExecuteAsync(key, (_, _) => ValueTask.FromResult(2), TimeSpan.Zero));
    }

    private static ServiceProvider Build(Action<DualLockBuilder> configure)
    {
        var services = new ServiceCollection();
        configure(services.AddDualLock());
        return services.BuildServiceProvider();
    }

    private static IReadOnlyList<string> Stages(IServiceProvider services, string name)
        => Assert.IsType<LockPipeline>(services.GetRequiredKeyedService<ILockStrategy>(name)).StageNames;
}
