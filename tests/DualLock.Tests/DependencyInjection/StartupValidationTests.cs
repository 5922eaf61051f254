using DualLock.MySql;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace DualLock.Tests.DependencyInjection;

/// <summary>Every registered strategy is built at host start: a bad option fails <c>StartAsync</c>, not the first request.</summary>
public sealed class StartupValidationTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // A well-formed connection string to a port nobody listens on: building must not connect.
    private const string Unreachable = "Server=127.0.0.1;Port=1;User ID=nobody;Password=secret-pw;Connection Timeout=1";

    [Fact]
    public async Task Start_InvalidOptionsInTwoStrategies_FailsOnceNamingEachStrategyAndProblem()
    {
        using var host = Host(b => b
            .AddInProcessStrategy("ok")
            .AddInProcessStrategy("queue", o => o.MaxQueueLength = 0)
            .AddPessimisticStrategy("row", o =>
            {
                o.ConnectionString = "Server=127.0.0.1;Password=secret-pw;Bogus Keyword=1";
                o.Table = "user points";
                o.KeyColumn = "user_id";
            }));

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(Ct));

        Assert.Contains("2 of 3 lock strategies and operations cannot be built", ex.Message, StringComparison.Ordinal);
        Assert.Contains("- 'queue': Pipeline 'queue', stage 'in-process'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("InProcessLockOptions.MaxQueueLength must be at least 1", ex.Message, StringComparison.Ordinal);
        Assert.Contains("- 'row':", ex.Message, StringComparison.Ordinal);
        Assert.Contains("MySqlTransactionOptions.ConnectionString must be a valid MySqlConnector connection string", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-pw", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("'ok'", ex.Message, StringComparison.Ordinal);
        Assert.Equal(2, Assert.IsType<AggregateException>(ex.InnerException).InnerExceptions.Count);
    }

    [Fact]
    public async Task Start_UnsafeComposition_FailsNamingTheStrategy()
    {
        // A row lock without a transaction around it: refused by Build(), so by the start.
        using var host = Host(b => b.AddPipeline("bare-row", p => p.AddMySqlRowLock("user_points", "user_id")));

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(Ct));

        Assert.Contains("- 'bare-row':", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_InvalidWaitTimeout_FailsTheStart()
    {
        using var host = Host(b => b.AddInProcessStrategy("charge"), services =>
            services.Configure<LockPipelineOptions>("charge", o => o.WaitTimeout = TimeSpan.FromHours(1)));

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(Ct));

        Assert.Contains("LockPipelineOptions['charge'].WaitTimeout", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_ValidOptionsAndAServerThatIsDown_StartsWithoutConnecting()
    {
        using var host = Host(b => b
            .AddInProcessStrategy("local")
            .AddPessimisticStrategy("row", o =>
            {
                o.ConnectionString = Unreachable;
                o.Table = "user_points";
                o.KeyColumn = "user_id";
            }));

        await host.StartAsync(Ct);

        var local = host.Services.GetRequiredKeyedService<ILockStrategy>("local");
        Assert.Equal(3, await local.ExecuteAsync(new LockKey("user-point", 1L), (_, _) => new ValueTask<int>(3), cancellationToken: Ct));
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task Start_ValidateOnStartOff_StartsAndTheFirstResolveThrows()
    {
        using var host = Host(b =>
        {
            b.ValidateOnStart = false;
            b.AddInProcessStrategy("queue", o => o.MaxQueueLength = 0);
        });

        await host.StartAsync(Ct);

        var ex = Assert.Throws<ArgumentException>(() => host.Services.GetRequiredKeyedService<ILockStrategy>("queue"));
        Assert.Contains("MaxQueueLength", ex.Message, StringComparison.Ordinal);
        await host.StopAsync(Ct);
    }

    [Fact]
    public void ValidateOnStart_SharedByEveryBuilderOfTheCollection()
    {
        var services = new ServiceCollection();
        services.AddDualLock().ValidateOnStart = false;

        Assert.False(services.AddDualLock().ValidateOnStart);
        Assert.Single(services, d => d.ImplementationType?.Name == "LockStrategyStartup");
    }

    private static IHost Host(Action<DualLockBuilder> configure, Action<IServiceCollection>? more = null)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        configure(builder.Services.AddDualLock());
        more?.Invoke(builder.Services);
        return builder.Build();
    }
}
