using Microsoft.Extensions.DependencyInjection;

namespace DualLock;

/// <summary>What one service collection registered through <c>AddDualLock</c>: the strategy names, the default, the start check.</summary>
internal sealed class LockStrategyRegistry
{
    private readonly List<string> _names = [];

    /// <summary>Gets or sets the default strategy's name: the first registered, or the one <c>SetDefault</c> named.</summary>
    public string? DefaultName { get; set; }

    /// <summary>Gets or sets a value indicating whether <see cref="DefaultName"/> was set explicitly.</summary>
    public bool Explicit { get; set; }

    /// <summary>Gets or sets a value indicating whether every strategy is built when the host starts.</summary>
    public bool ValidateOnStart { get; set; } = true;

    /// <summary>Gets the registered strategy names, in registration order.</summary>
    public IReadOnlyList<string> Names => _names;

    public void Add(string name) => _names.Add(name);

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
