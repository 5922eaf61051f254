using DualLock;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers named lock strategies; returned by <see cref="DualLockServiceCollectionExtensions.AddDualLock(IServiceCollection)"/>.
/// Each is a keyed singleton <see cref="ILockStrategy"/> (and <see cref="LockPipeline"/>) under its name.
/// </summary>
/// <remarks>
/// The presets register one strategy in one line: <see cref="AddInProcessStrategy"/> here,
/// <c>AddPessimisticStrategy</c>/<c>AddNamedLockStrategy</c>/<c>AddOptimisticStrategy</c> in DualLock.MySql,
/// <c>AddDistributedStrategy</c>/<c>AddDualStrategy</c> in DualLock.Redis. <see cref="AddPipeline(string, Action{LockPipelineBuilder, IServiceProvider})"/>
/// composes any other order of stages. The unkeyed <see cref="ILockStrategy"/> is the default strategy:
/// the first one registered, unless <see cref="SetDefault"/> names another.
/// </remarks>
public sealed class DualLockBuilder
{
    internal DualLockBuilder(IServiceCollection services)
    {
        Services = services;
        Registry = FindOrAddRegistry(services);
    }

    /// <summary>Gets the service collection.</summary>
    public IServiceCollection Services { get; }

    /// <summary>
    /// Gets or sets a value indicating whether every strategy registered on this service collection is built when the
    /// host starts, so that invalid options, a malformed connection string or an unsafe composition fail
    /// <c>host.StartAsync()</c> (one <see cref="InvalidOperationException"/> naming each strategy and its problem)
    /// rather than the first request that resolves the strategy.
    /// </summary>
    /// <value>
    /// Default: <see langword="true"/>. Building connects to nothing: a server that is down does not fail the start.
    /// Without a host (a bare <c>ServiceProvider</c>) nothing runs at start and strategies are built at first use.
    /// </value>
    public bool ValidateOnStart
    {
        get => Registry.ValidateOnStart;
        set => Registry.ValidateOnStart = value;
    }

    /// <summary>Gets the registry of this service collection (the packages add their configuration kinds to it).</summary>
    internal LockStrategyRegistry Registry { get; }

    /// <summary>Makes <paramref name="name"/> the strategy resolved as the unkeyed <see cref="ILockStrategy"/>.</summary>
    /// <param name="name">The name of a strategy registered on this builder, before or after this call.</param>
    /// <returns>This builder.</returns>
    /// <remarks>Without it, the default is the first strategy registered. A name never registered fails when the default is resolved.</remarks>
    public DualLockBuilder SetDefault(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Registry.DefaultName = name;
        Registry.Explicit = true;
        return this;
    }

    /// <summary>
    /// Registers the strategies and operations of a configuration section (for example <c>configuration.GetSection("DualLock")</c>):
    /// each child of <c>Strategies</c> is a strategy of that name, its <c>Kind</c> (<c>in-process</c>, <c>pessimistic</c>,
    /// <c>named-lock</c>, <c>optimistic</c>, <c>distributed</c>, <c>dual</c>) and that kind's settings; each child of
    /// <c>Operations</c> (<c>charge = dual-hot</c>) registers the operation's name as a key resolving to that strategy
    /// (<c>[FromKeyedServices("charge")] ILockStrategy</c>); <c>Default</c> names the unkeyed strategy.
    /// </summary>
    /// <param name="section">The section; read without reflection, so trimmed applications can use it.</param>
    /// <returns>This builder.</returns>
    /// <remarks>
    /// The MySQL kinds need <c>AddMySql()</c>, the Redis kinds <c>AddRedis(...)</c> on this builder (in any order).
    /// An unknown kind, an unknown key or an invalid value fails when the strategy is built, at host start
    /// (<see cref="ValidateOnStart"/>), with an <see cref="ArgumentException"/> naming the section path
    /// (<c>DualLock:Strategies:charge:WaitTimeout</c>) and every problem; so does an operation naming no registered strategy.
    /// </remarks>
    public DualLockBuilder AddStrategiesFrom(IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(section);
        ConfiguredStrategies.Register(this, Registry, section);
        return this;
    }

    /// <summary>Registers a strategy with one in-process lock: correct for a single instance only.</summary>
    /// <param name="name">The strategy name and DI key.</param>
    /// <param name="configure">Adjusts the stage's options; optional.</param>
    /// <returns>This builder.</returns>
    public DualLockBuilder AddInProcessStrategy(string name, Action<InProcessLockOptions>? configure = null)
        => AddPipeline(name, (builder, _) =>
        {
            var options = new InProcessLockOptions();
            configure?.Invoke(options);
            builder.AddInProcessLock(options);
        });

    /// <summary>
    /// Registers a pipeline as a keyed singleton <see cref="ILockStrategy"/> and <see cref="LockPipeline"/>
    /// under <paramref name="name"/>, so an endpoint can ask for <c>[FromKeyedServices("charge")] ILockStrategy strategy</c>.
    /// </summary>
    /// <param name="name">The pipeline name and DI key.</param>
    /// <param name="configure">Adds the stages; runs once, when the pipeline is first resolved.</param>
    /// <returns>This builder.</returns>
    /// <remarks>
    /// The pipeline's <see cref="LockPipelineOptions"/> are the named options <paramref name="name"/>:
    /// bind them from configuration with <c>services.Configure&lt;LockPipelineOptions&gt;(name, section)</c>;
    /// they are validated when the host starts. Stage options are validated when <paramref name="configure"/>
    /// adds each stage, that is when the pipeline is built (one <see cref="ArgumentException"/>
    /// naming the pipeline and the stage and listing every problem): at host start (<see cref="ValidateOnStart"/>),
    /// else when it is first resolved. Registering a name twice keeps the first registration.
    /// </remarks>
    public DualLockBuilder AddPipeline(string name, Action<LockPipelineBuilder, IServiceProvider> configure)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(configure);

        if (IsRegistered(name))
        {
            return this;
        }

        Services.AddOptions<LockPipelineOptions>(name).ValidateOnStart();
        Services.AddKeyedSingleton(name, (sp, _) => CreatePipeline(sp, name, configure));
        Services.AddKeyedSingleton<ILockStrategy>(name, static (sp, key) => sp.GetRequiredKeyedService<LockPipeline>(key));
        Registry.DefaultName ??= name;
        Registry.Add(name);
        return this;
    }

    /// <summary>Registers a pipeline whose stages need nothing from the service provider.</summary>
    /// <param name="name">The pipeline name and DI key.</param>
    /// <param name="configure">Adds the stages.</param>
    /// <returns>This builder.</returns>
    public DualLockBuilder AddPipeline(string name, Action<LockPipelineBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return AddPipeline(name, (builder, _) => configure(builder));
    }

    /// <summary>
    /// Registers a dual pipeline: the <paramref name="distributed"/> stages (for example a Redis
    /// lock) outside, the <paramref name="database"/> stages (a transaction and a row lock) inside,
    /// so the distributed lock is released only after the transaction has committed.
    /// </summary>
    /// <param name="name">The pipeline name and DI key.</param>
    /// <param name="distributed">Adds the outer, distributed stages.</param>
    /// <param name="database">Adds the inner, database stages.</param>
    /// <param name="fallbackToDatabase">
    /// When <see langword="true"/> (the default) an unavailable distributed lock service does not fail
    /// the execution: it continues under the database lock alone, which is still correct, and the
    /// fallback is counted and logged. When <see langword="false"/> it fails with <see cref="LockUnavailableException"/>.
    /// </param>
    /// <returns>This builder.</returns>
    /// <exception cref="InvalidOperationException">Either part added no stage (thrown when the pipeline is built).</exception>
    public DualLockBuilder AddDualPipeline(
        string name,
        Action<LockPipelineBuilder, IServiceProvider> distributed,
        Action<LockPipelineBuilder, IServiceProvider> database,
        bool fallbackToDatabase = true)
    {
        ArgumentNullException.ThrowIfNull(distributed);
        ArgumentNullException.ThrowIfNull(database);
        return AddPipeline(name, (builder, services) => builder.AddDual(services, distributed, database, fallbackToDatabase));
    }

    private bool IsRegistered(string name)
    {
        foreach (var descriptor in Services)
        {
            if (descriptor.IsKeyedService && descriptor.ServiceType == typeof(LockPipeline) && Equals(descriptor.ServiceKey, name))
            {
                return true;
            }
        }

        return false;
    }

    private static LockStrategyRegistry FindOrAddRegistry(IServiceCollection services)
    {
        foreach (var descriptor in services)
        {
            if (descriptor.ServiceType == typeof(LockStrategyRegistry) && descriptor.ImplementationInstance is LockStrategyRegistry existing)
            {
                return existing;
            }
        }

        var registry = new LockStrategyRegistry();
        services.AddSingleton(registry);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, LockStrategyStartup>());
        services.AddSingleton<ILockStrategy>(static sp => sp.GetRequiredService<LockStrategyRegistry>().ResolveDefault(sp));
        return registry;
    }

    private static LockPipeline CreatePipeline(IServiceProvider services, string name, Action<LockPipelineBuilder, IServiceProvider> configure)
    {
        var options = services.GetRequiredService<IOptionsMonitor<LockPipelineOptions>>().Get(name);
        var builder = new LockPipelineBuilder
        {
            Name = name,
            WaitTimeout = options.WaitTimeout,
            TimeProvider = services.GetService<TimeProvider>() ?? TimeProvider.System,
            LoggerFactory = services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance,
        };
        configure(builder, services);
        return builder.Build();
    }
}
