using Microsoft.Extensions.DependencyInjection;

namespace DualLock.Tests.PostgreSql;

/// <summary>The PostgreSQL presets build their stages in order, and bad options fail at first resolve naming the strategy and the option.</summary>
public sealed class PostgresStrategyPresetTests
{
    private const string ConnectionString = "Host=127.0.0.1;Port=1;Username=u;Password=p;Database=d";

    [Fact]
    public void AddPostgresPessimisticStrategy_TransactionThenRowLock()
    {
        using var services = Build(b => b.AddPostgresPessimisticStrategy("charge", o =>
        {
            o.ConnectionString = ConnectionString;
            o.Table = "user_points";
            o.KeyColumn = "user_id";
        }));

        Assert.Equal(["postgres-transaction", "postgres-row-lock"], Stages(services, "charge"));
    }

    [Fact]
    public void AddPostgresAdvisoryLockStrategy_TransactionThenAdvisoryLock()
    {
        using var services = Build(b => b.AddPostgresAdvisoryLockStrategy("jobs", o => o.ConnectionString = ConnectionString));

        Assert.Equal(["postgres-transaction", "postgres-advisory-lock"], Stages(services, "jobs"));
    }

    [Fact]
    public void AddPostgresOptimisticStrategy_TransactionOnly()
    {
        using var services = Build(b => b.AddPostgresOptimisticStrategy("opt", o => o.ConnectionString = ConnectionString));

        Assert.Equal(["postgres-transaction"], Stages(services, "opt"));
    }

    [Fact]
    public void AddPostgresPessimisticStrategy_MissingConnectionString_NamesStrategyAndOption()
    {
        using var services = Build(b => b.AddPostgresPessimisticStrategy("charge", o =>
        {
            o.Table = "user_points";
            o.KeyColumn = "user_id";
        }));

        var ex = Assert.Throws<ArgumentException>(() => services.GetRequiredKeyedService<ILockStrategy>("charge"));
        Assert.StartsWith("Pipeline 'charge', stage 'postgres-transaction': 1 invalid option problem:", ex.Message, StringComparison.Ordinal);
        Assert.Contains("- PostgresTransactionOptions.ConnectionString must not be empty (was null).", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddPostgresPessimisticStrategy_MissingTable_NamesStrategyAndOption()
    {
        using var services = Build(b => b.AddPostgresPessimisticStrategy("charge", o =>
        {
            o.ConnectionString = ConnectionString;
            o.KeyColumn = "user_id";
        }));

        var ex = Assert.Throws<ArgumentException>(() => services.GetRequiredKeyedService<ILockStrategy>("charge"));
        Assert.StartsWith("Pipeline 'charge', stage 'postgres-row-lock': 1 invalid option problem:", ex.Message, StringComparison.Ordinal);
        Assert.Contains("- PostgresRowLockOptions.Table must be a plain SQL identifier", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddPostgresAdvisoryLockStrategy_UnsupportedIsolationLevel_NamesStrategyAndOption()
    {
        using var services = Build(b => b.AddPostgresAdvisoryLockStrategy("jobs", o =>
        {
            o.ConnectionString = ConnectionString;
            o.IsolationLevel = System.Data.IsolationLevel.Snapshot;
        }));

        var ex = Assert.Throws<ArgumentException>(() => services.GetRequiredKeyedService<ILockStrategy>("jobs"));
        Assert.StartsWith("Pipeline 'jobs', stage 'postgres-transaction': 1 invalid option problem:", ex.Message, StringComparison.Ordinal);
        Assert.Contains("PostgresTransactionOptions.IsolationLevel must be ReadCommitted, RepeatableRead or Serializable", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, "- PostgresOptimisticOptions.MaxAttempts must be between 1 and 10000 (was 0).")]
    [InlineData(10_001, "- PostgresOptimisticOptions.MaxAttempts must be between 1 and 10000 (was 10001).")]
    public void AddPostgresOptimisticStrategy_MaxAttemptsOutOfRange_NamesStrategyAndOption(int attempts, string problem)
    {
        using var services = Build(b => b.AddPostgresOptimisticStrategy("broken", o =>
        {
            o.ConnectionString = ConnectionString;
            o.MaxAttempts = attempts;
        }));

        var ex = Assert.Throws<ArgumentException>(() => services.GetRequiredKeyedService<ILockStrategy>("broken"));
        Assert.StartsWith("Strategy 'broken': 1 invalid option problem:", ex.Message, StringComparison.Ordinal);
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddPostgresOptimisticStrategy_RetryDelayAboveMax_NamesStrategyAndOption()
    {
        using var services = Build(b => b.AddPostgresOptimisticStrategy("broken", o =>
        {
            o.ConnectionString = ConnectionString;
            o.RetryDelay = TimeSpan.FromSeconds(1);
            o.MaxRetryDelay = TimeSpan.FromMilliseconds(100);
        }));

        var ex = Assert.Throws<ArgumentException>(() => services.GetRequiredKeyedService<ILockStrategy>("broken"));
        Assert.StartsWith("Strategy 'broken': 1 invalid option problem:", ex.Message, StringComparison.Ordinal);
        Assert.Contains("PostgresOptimisticOptions.RetryDelay", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddPostgresOptimisticStrategy_MissingConnectionString_NamesStrategyAndOption()
    {
        using var services = Build(b => b.AddPostgresOptimisticStrategy("broken", _ => { }));

        var ex = Assert.Throws<ArgumentException>(() => services.GetRequiredKeyedService<ILockStrategy>("broken"));
        Assert.StartsWith("Strategy 'broken': 1 invalid option problem:", ex.Message, StringComparison.Ordinal);
        Assert.Contains("- PostgresOptimisticOptions.ConnectionString must not be empty (was null).", ex.Message, StringComparison.Ordinal);
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
