using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace DualLock;

/// <summary>Registers the strategies and operations of a <c>DualLock</c> configuration section.</summary>
internal static class ConfiguredStrategies
{
    public static void Register(DualLockBuilder builder, LockStrategyRegistry registry, IConfiguration section)
    {
        foreach (var strategy in section.GetSection("Strategies").GetChildren())
        {
            var configured = strategy;
            builder.AddPipeline(strategy.Key, (pipeline, services) => Build(registry, new StrategySection(configured.Key, configured), pipeline, services));
        }

        foreach (var operation in section.GetSection("Operations").GetChildren())
        {
            registry.AddOperation(operation.Key, operation.Value, operation.Path);
            builder.Services.AddKeyedSingleton<ILockStrategy>(operation.Key, static (sp, key) => sp.GetRequiredService<LockStrategyRegistry>().ResolveOperation(sp, (string)key!));
        }

        if (section["Default"] is { Length: > 0 } defaultName)
        {
            builder.SetDefault(defaultName);
        }
    }

    private static void Build(LockStrategyRegistry registry, StrategySection section, LockPipelineBuilder pipeline, IServiceProvider services)
    {
        if (section.Duration("WaitTimeout") is { } wait)
        {
            if (wait < TimeSpan.Zero || wait > LockPipeline.MaxWaitTimeout)
            {
                section.Problems.Add($"{section.Path}:WaitTimeout must be between 0 and {LockPipeline.MaxWaitTimeout:c} (was {wait:c}); waits are bounded.");
            }
            else
            {
                pipeline.WaitTimeout = wait;
            }
        }

        Action? addStages = null;
        if (section.Kind is not { Length: > 0 } kindName)
        {
            section.Problems.Add($"{section.Path}:Kind is required (one of: {registry.Kinds.Known}).");
        }
        else if (!registry.Kinds.TryGet(kindName, out var kind))
        {
            section.Problems.Add($"{section.Path}:Kind '{kindName}' is not a known kind (known: {registry.Kinds.Known}; the MySQL kinds need AddMySql(), the Redis kinds AddRedis(...) on the DualLock builder).");
        }
        else
        {
            section.OnlyKeys(kind.Keys);
            addStages = kind.Read(section, pipeline, services);
        }

        section.ThrowIfAny();
        addStages!();
    }
}
