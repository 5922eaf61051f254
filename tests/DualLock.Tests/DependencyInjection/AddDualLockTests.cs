using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace DualLock.Tests.DependencyInjection;

public sealed class AddDualLockTests
{
    [Fact]
    public void AddPipeline_Named_ResolvesAsKeyedServiceWithItsStages()
    {
        var services = new ServiceCollection();
        services.AddDualLock(locks => locks
            .AddPipeline("charge", b => b.AddInProcessLock())
            .AddPipeline("read", b => b.AddNoLock()));
        using var provider = services.BuildServiceProvider();

        var charge = provider.GetRequiredKeyedService<LockPipeline>("charge");
        var read = provider.GetRequiredKeyedService<LockPipeline>("read");

        Assert.Equal("charge", charge.Name);
        Assert.Equal(["in-process"], charge.StageNames);
        Assert.Equal(["none"], read.StageNames);
        Assert.Same(charge, provider.GetRequiredKeyedService<LockPipeline>("charge"));
    }

    [Fact]
    public void AddDualLock_CalledTwice_IsHarmless()
    {
        var services = new ServiceCollection();
        services.AddDualLock().AddPipeline("charge", b => b.AddInProcessLock());
        var count = services.Count;
        services.AddDualLock().AddPipeline("charge", b => b.AddNoLock());
        using var provider = services.BuildServiceProvider();

        Assert.Equal(count, services.Count);
        Assert.Single(provider.GetServices<IValidateOptions<LockPipelineOptions>>());
        Assert.Equal(["in-process"], provider.GetRequiredKeyedService<LockPipeline>("charge").StageNames);
    }

    [Fact]
    public void AddPipeline_OptionsFromConfiguration_SetWaitTimeout()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Locks:charge:WaitTimeout"] = "00:00:05" })
            .Build();
        var services = new ServiceCollection();
        services.Configure<LockPipelineOptions>("charge", configuration.GetSection("Locks:charge"));
        services.AddDualLock().AddPipeline("charge", b => b.AddInProcessLock());
        using var provider = services.BuildServiceProvider();

        Assert.Equal(TimeSpan.FromSeconds(5), provider.GetRequiredKeyedService<LockPipeline>("charge").WaitTimeout);
    }

    [Fact]
    public void AddPipeline_TimeProviderFromDi_IsPassedToStages()
    {
        var time = new FakeTimeProvider();
        TimeProvider? seen = null;
        var services = new ServiceCollection().AddSingleton<TimeProvider>(time);
        services.AddDualLock().AddPipeline("p", b => b.AddStage(ctx =>
        {
            seen = ctx.TimeProvider;
            return new NoLockStage();
        }));
        using var provider = services.BuildServiceProvider();

        provider.GetRequiredKeyedService<LockPipeline>("p");

        Assert.Same(time, seen);
    }

    [Fact]
    public async Task HostStart_InvalidPipelineOptions_FailsWithPreciseMessage()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Locks:charge:WaitTimeout"] = "-00:00:01" });
        builder.Services.Configure<LockPipelineOptions>("charge", builder.Configuration.GetSection("Locks:charge"));
        builder.Services.AddDualLock().AddPipeline("charge", b => b.AddInProcessLock());
        using var host = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Equal(["LockPipelineOptions['charge'].WaitTimeout must be between 00:00:00 and 00:10:00 (was -00:00:01); waits are bounded."], ex.Failures);
    }

    [Fact]
    public async Task HostStart_ValidOptions_Starts()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddDualLock().AddPipeline("charge", b => b.AddInProcessLock());
        using var host = builder.Build();

        await host.StartAsync(TestContext.Current.CancellationToken);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public void AddDualPipeline_RegistersDistributedOutsideDatabase()
    {
        var services = new ServiceCollection();
        services.AddDualLock().AddDualPipeline(
            "dual",
            (b, _) => b.AddInProcessLock(new InProcessLockOptions { Name = "distributed" }),
            (b, _) => b.AddInProcessLock(new InProcessLockOptions { Name = "database" }));
        using var provider = services.BuildServiceProvider();

        Assert.Equal(["distributed", "database"], provider.GetRequiredKeyedService<LockPipeline>("dual").StageNames);
    }
}
