using Microsoft.Extensions.DependencyInjection;

namespace DualLock;

/// <summary>Which registered strategy the unkeyed <see cref="ILockStrategy"/> is; one per service collection.</summary>
internal sealed class LockStrategyRegistry
{
    /// <summary>Gets or sets the default strategy's name: the first registered, or the one <c>SetDefault</c> named.</summary>
    public string? DefaultName { get; set; }

    /// <summary>Gets or sets a value indicating whether <see cref="DefaultName"/> was set explicitly.</summary>
    public bool Explicit { get; set; }

    public ILockStrategy ResolveDefault(IServiceProvider services)
    {
        if (DefaultName is null)
        {
            throw new InvalidOperationException(
                "No lock strategy is registered, so there is no default ILockStrategy. Register one with services.AddDualLock().AddInProcessStrategy(name) (or another preset, or AddPipeline).");
        }

        return services.GetKeyedService<ILockStrategy>(DefaultName) ?? throw new InvalidOperationException(
            $"The default lock strategy is '{DefaultName}' ({(Explicit ? "named by SetDefault" : "the first registered")}), but no strategy of that name is registered.");
    }
}
