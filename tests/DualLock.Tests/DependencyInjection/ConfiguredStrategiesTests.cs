using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace DualLock.Tests.DependencyInjection;

/// <summary>Strategies and operations bound from a configuration section; every mistake fails the start naming its path.</summary>
public sealed class ConfiguredStrategiesTests
{
    private const string Cs = "Server=127.0.0.1;Port=1;User ID=app;Password=pw";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AddStrategiesFrom_EveryKind_BuildsItsStagesWithItsSettings()
    {
        using var host = Host(new()
        {
            ["DualLock:Default"] = "row",
            ["DualLock:Strategies:local:Kind"] = "in-process",
            ["DualLock:Strategies:local:MaxQueueLength"] = "8",
            ["DualLock:Strategies:local:WaitTimeout"] = "00:00:00.250",
            ["DualLock:Strategies:row:Kind"] = "pessimistic",
            ["DualLock:Strategies:row:ConnectionString"] = Cs,
            ["DualLock:Strategies:row:Table"] = "user_points",
            ["DualLock:Strategies:row:KeyColumn"] = "user_id",
            ["DualLock:Strategies:row:IsolationLevel"] = "RepeatableRead",
            ["DualLock:Strategies:named:Kind"] = "named-lock",
            ["DualLock:Strategies:named:ConnectionString"] = Cs,
            ["DualLock:Strategies:opt:Kind"] = "optimistic",
            ["DualLock:Strategies:opt:ConnectionString"] = Cs,
            ["DualLock:Strategies:opt:MaxAttempts"] = "3",
            ["DualLock:Strategies:dual-hot:Kind"] = "dual",
            ["DualLock:Strategies:dual-hot:ConnectionString"] = Cs,
            ["DualLock:Strategies:dual-hot:Table"] = "user_points",
            ["DualLock:Strategies:dual-hot:KeyColumn"] = "user_id",
            ["DualLock:Strategies:fenced:Kind"] = "distributed",
            ["DualLock:Strategies:fenced:ConnectionString"] = Cs,
            ["DualLock:Operations:charge"] = "dual-hot",
        });

        await host.StartAsync(Ct);

        var sp = host.Services;
        var local = sp.GetRequiredKeyedService<LockPipeline>("local");
        Assert.Equal(["in-process"], local.StageNames);
        Assert.Equal(TimeSpan.FromMilliseconds(250), local.WaitTimeout);
        Assert.Equal(["mysql-transaction", "mysql-row-lock"], sp.GetRequiredKeyedService<LockPipeline>("row").StageNames);
        Assert.Equal(["mysql-named-lock", "mysql-transaction"], sp.GetRequiredKeyedService<LockPipeline>("named").StageNames);
        Assert.Equal(["mysql-transaction"], sp.GetRequiredKeyedService<LockPipeline>("opt").StageNames);
        Assert.Equal(["redis", "mysql-transaction", "mysql-row-lock"], sp.GetRequiredKeyedService<LockPipeline>("dual-hot").StageNames);
        Assert.Equal(["redis", "mysql-transaction"], sp.GetRequiredKeyedService<LockPipeline>("fenced").StageNames);
        Assert.Same(sp.GetRequiredKeyedService<LockPipeline>("dual-hot"), sp.GetRequiredKeyedService<ILockStrategy>("charge"));
        Assert.Same(sp.GetRequiredKeyedService<LockPipeline>("row"), sp.GetRequiredService<ILockStrategy>());
        Assert.Equal(5, await local.ExecuteAsync(new LockKey("user-point", 1L), (_, _) => new ValueTask<int>(5), cancellationToken: Ct));
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task Start_MistakesInTheSection_OneMessageNamingEachPath()
    {
        using var host = Host(new()
        {
            ["DualLock:Strategies:typo:Kind"] = "in-process",
            ["DualLock:Strategies:typo:MaxQueueLenght"] = "8",
            ["DualLock:Strategies:unknown:Kind"] = "zookeeper",
            ["DualLock:Strategies:nokind:MaxQueueLength"] = "8",
            ["DualLock:Strategies:badvalue:Kind"] = "in-process",
            ["DualLock:Strategies:badvalue:MaxQueueLength"] = "many",
            ["DualLock:Strategies:badvalue:WaitTimeout"] = "00:20:00",
            ["DualLock:Strategies:invalid:Kind"] = "pessimistic",
            ["DualLock:Strategies:invalid:ConnectionString"] = Cs,
            ["DualLock:Strategies:invalid:Table"] = "user points",
            ["DualLock:Strategies:invalid:KeyColumn"] = "user_id",
            ["DualLock:Strategies:invalid:IsolationLevel"] = "Snapshot-ish",
            ["DualLock:Operations:refund"] = "missing",
        });

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(Ct));

        Assert.Contains("DualLock:Strategies:typo:MaxQueueLenght is not a setting of kind 'in-process'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("DualLock:Strategies:unknown:Kind 'zookeeper' is not a known kind", ex.Message, StringComparison.Ordinal);
        Assert.Contains("DualLock:Strategies:nokind:Kind is required", ex.Message, StringComparison.Ordinal);
        Assert.Contains("DualLock:Strategies:badvalue:MaxQueueLength must be a whole number (was 'many')", ex.Message, StringComparison.Ordinal);
        Assert.Contains("DualLock:Strategies:badvalue:WaitTimeout must be between 0 and", ex.Message, StringComparison.Ordinal);
        Assert.Contains("DualLock:Strategies:invalid: MySqlRowLockOptions.Table must be a plain SQL identifier", ex.Message, StringComparison.Ordinal);
        Assert.Contains("DualLock:Strategies:invalid:IsolationLevel must be one of", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Operation 'refund' (DualLock:Operations:refund) uses strategy 'missing', which is not registered", ex.Message, StringComparison.Ordinal);
        Assert.Contains("6 of 6 lock strategies and operations", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_MySqlKindWithoutAddMySql_SaysWhatToCall()
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["DualLock:Strategies:row:Kind"] = "pessimistic",
            ["DualLock:Strategies:dual:Kind"] = "dual",
        });
        builder.Services.AddDualLock(builder.Configuration.GetSection("DualLock")).AddRedis("127.0.0.1:1");
        using var host = builder.Build();

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(Ct));

        Assert.Contains("DualLock:Strategies:row:Kind 'pessimistic' is not a known kind", ex.Message, StringComparison.Ordinal);
        Assert.Contains("DualLock:Strategies:dual:Kind 'dual' with Database 'mysql' needs its database part: call AddMySql() on the DualLock builder (package DualLock.MySql)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Operation_WithoutAHost_ResolvingItFailsClearly()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["DualLock:Strategies:local:Kind"] = "in-process",
            ["DualLock:Operations:charge"] = "nope",
        }).Build();
        using var services = new ServiceCollection().AddDualLock(configuration.GetSection("DualLock")).Services.BuildServiceProvider();

        var ex = Assert.Throws<InvalidOperationException>(() => services.GetRequiredKeyedService<ILockStrategy>("charge"));
        Assert.Contains("uses strategy 'nope', which is not registered", ex.Message, StringComparison.Ordinal);
    }

    private static IHost Host(Dictionary<string, string?> settings)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddDualLock(builder.Configuration.GetSection("DualLock"))
            .AddMySql()
            .AddRedis("127.0.0.1:1,connectTimeout=200");
        return builder.Build();
    }
}
