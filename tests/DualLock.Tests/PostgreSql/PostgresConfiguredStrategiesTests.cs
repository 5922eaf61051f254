using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace DualLock.Tests.PostgreSql;

/// <summary>The PostgreSQL kinds bound from configuration (AddPostgreSql + AddStrategiesFrom), and their mistakes named by path.</summary>
public sealed class PostgresConfiguredStrategiesTests
{
    // Nothing connects while a pipeline is built; Redis gets an address that refuses.
    private const string Cs = "Host=127.0.0.1;Port=1;Username=app;Password=pw;Database=d";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AddStrategiesFrom_EveryPostgresKind_BuildsItsStages()
    {
        using var host = Host(new()
        {
            ["DualLock:Strategies:row:Kind"] = "postgres-pessimistic",
            ["DualLock:Strategies:row:ConnectionString"] = Cs,
            ["DualLock:Strategies:row:Table"] = "user_points",
            ["DualLock:Strategies:row:KeyColumn"] = "user_id",
            ["DualLock:Strategies:row:IsolationLevel"] = "RepeatableRead",
            ["DualLock:Strategies:advisory:Kind"] = "postgres-advisory-lock",
            ["DualLock:Strategies:advisory:ConnectionString"] = Cs,
            ["DualLock:Strategies:opt:Kind"] = "postgres-optimistic",
            ["DualLock:Strategies:opt:ConnectionString"] = Cs,
            ["DualLock:Strategies:opt:MaxAttempts"] = "3",
            ["DualLock:Strategies:opt:RetryDelay"] = "00:00:00.010",
            ["DualLock:Strategies:dual-hot:Kind"] = "dual",
            ["DualLock:Strategies:dual-hot:Database"] = "postgres",
            ["DualLock:Strategies:dual-hot:ConnectionString"] = Cs,
            ["DualLock:Strategies:dual-hot:Table"] = "user_points",
            ["DualLock:Strategies:dual-hot:KeyColumn"] = "user_id",
            ["DualLock:Strategies:fenced:Kind"] = "distributed",
            ["DualLock:Strategies:fenced:Database"] = "PostgreSQL",
            ["DualLock:Strategies:fenced:ConnectionString"] = Cs,
        });

        await host.StartAsync(Ct);

        var sp = host.Services;
        Assert.Equal(["postgres-transaction", "postgres-row-lock"], sp.GetRequiredKeyedService<LockPipeline>("row").StageNames);
        Assert.Equal(["postgres-transaction", "postgres-advisory-lock"], sp.GetRequiredKeyedService<LockPipeline>("advisory").StageNames);
        Assert.Equal(["postgres-transaction"], sp.GetRequiredKeyedService<LockPipeline>("opt").StageNames);
        Assert.Equal(["redis", "postgres-transaction", "postgres-row-lock"], sp.GetRequiredKeyedService<LockPipeline>("dual-hot").StageNames);
        Assert.Equal(["redis", "postgres-transaction"], sp.GetRequiredKeyedService<LockPipeline>("fenced").StageNames);
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task Start_MistakesInPostgresSections_OneMessageNamingEachPath()
    {
        using var host = Host(new()
        {
            ["DualLock:Strategies:badtable:Kind"] = "postgres-pessimistic",
            ["DualLock:Strategies:badtable:ConnectionString"] = Cs,
            ["DualLock:Strategies:badtable:Table"] = "user points",
            ["DualLock:Strategies:badtable:KeyColumn"] = "user_id",
            ["DualLock:Strategies:extra:Kind"] = "postgres-advisory-lock",
            ["DualLock:Strategies:extra:ConnectionString"] = Cs,
            ["DualLock:Strategies:extra:Table"] = "user_points",
            ["DualLock:Strategies:noconn:Kind"] = "postgres-advisory-lock",
            ["DualLock:Strategies:attempts:Kind"] = "postgres-optimistic",
            ["DualLock:Strategies:attempts:ConnectionString"] = Cs,
            ["DualLock:Strategies:attempts:MaxAttempts"] = "0",
            ["DualLock:Strategies:level:Kind"] = "postgres-advisory-lock",
            ["DualLock:Strategies:level:ConnectionString"] = Cs,
            ["DualLock:Strategies:level:IsolationLevel"] = "Snapshot",
        });

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(Ct));

        Assert.Contains("DualLock:Strategies:badtable: PostgresRowLockOptions.Table must be a plain SQL identifier", ex.Message, StringComparison.Ordinal);
        Assert.Contains("DualLock:Strategies:extra:Table is not a setting of kind 'postgres-advisory-lock'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("DualLock:Strategies:noconn: PostgresTransactionOptions.ConnectionString must not be empty", ex.Message, StringComparison.Ordinal);
        Assert.Contains("DualLock:Strategies:attempts: PostgresOptimisticOptions.MaxAttempts must be between 1 and 10000 (was 0)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("DualLock:Strategies:level: PostgresTransactionOptions.IsolationLevel must be ReadCommitted, RepeatableRead or Serializable", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_PostgresKindsWithoutAddPostgreSql_SaysWhatToCall()
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["DualLock:Strategies:row:Kind"] = "postgres-pessimistic",
            ["DualLock:Strategies:dual:Kind"] = "dual",
            ["DualLock:Strategies:dual:Database"] = "postgres",
        });
        builder.Services.AddDualLock(builder.Configuration.GetSection("DualLock")).AddRedis("127.0.0.1:1");
        using var host = builder.Build();

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(Ct));

        Assert.Contains("DualLock:Strategies:row:Kind 'postgres-pessimistic' is not a known kind", ex.Message, StringComparison.Ordinal);
        Assert.Contains("DualLock:Strategies:dual:Kind 'dual' with Database 'postgres' needs its database part: call AddPostgreSql() on the DualLock builder (package DualLock.PostgreSql)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddPostgreSql_CalledTwice_KindsStillBind()
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["DualLock:Strategies:advisory:Kind"] = "postgres-advisory-lock",
            ["DualLock:Strategies:advisory:ConnectionString"] = Cs,
        });
        builder.Services.AddDualLock(builder.Configuration.GetSection("DualLock")).AddPostgreSql().AddPostgreSql();
        using var host = builder.Build();

        await host.StartAsync(Ct);

        Assert.Equal(["postgres-transaction", "postgres-advisory-lock"], host.Services.GetRequiredKeyedService<LockPipeline>("advisory").StageNames);
        await host.StopAsync(Ct);
    }

    private static IHost Host(Dictionary<string, string?> settings)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddDualLock(builder.Configuration.GetSection("DualLock"))
            .AddPostgreSql()
            .AddRedis("127.0.0.1:1,connectTimeout=200");
        return builder.Build();
    }
}
