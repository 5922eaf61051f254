using Microsoft.Extensions.DependencyInjection;

namespace DualLock;

/// <summary>What one service collection registered through <c>AddDualLock</c>: the strategy names, the default, the start check.</summary>
internal sealed class LockStrategyRegistry
{
    private readonly List<string> _names = [];
    private readonly List<(string Name, string? Target, string Path)> _operations = [];

    /// <summary>Gets or sets the default strategy's name: the first registered, or the one <c>SetDefault</c> named.</summary>
    public string? DefaultName { get; set; }

    /// <summary>Gets or sets a value indicating whether <see cref="DefaultName"/> was set explicitly.</summary>
    public bool Explicit { get; set; }

    /// <summary>Gets or sets a value indicating whether every strategy is built when the host starts.</summary>
    public bool ValidateOnStart { get; set; } = true;

    /// <summary>Gets the registered strategy names, in registration order.</summary>
    public IReadOnlyList<string> Names => _names;

    /// <summary>Gets the kinds a configured strategy may name (<c>AddStrategiesFrom</c>).</summary>
    public StrategyKinds Kinds { get; } = new();

    /// <summary>Gets the configured operations: an operation name, the strategy it uses, its configuration path.</summary>
    public IReadOnlyList<(string Name, string? Target, string Path)> Operations => _operations;

    public void Add(string name) => _names.Add(name);

    public void AddOperation(string name, string? target, string path) => _operations.Add((name, target, path));

    /// <summary>The problem of an operation whose strategy cannot be resolved, or <see langword="null"/>.</summary>
    public string? OperationProblem(string name, string? target, string path)
    {
        if (string.IsNullOrWhiteSpace(target))
        {
            return $"Operation '{name}' ({path}) names no strategy; set it to one of: {string.Join(", ", _names)}.";
        }

        if (_names.Contains(name, StringComparer.Ordinal))
        {
            return $"Operation '{name}' ({path}) has the name of a strategy; an operation needs a name of its own.";
        }

        return _names.Contains(target, StringComparer.Ordinal)
            ? null
            : $"Operation '{name}' ({path}) uses strategy '{target}', which is not registered (registered: {string.Join(", ", _names)}).";
    }

    /// <summary>The strategy a configured operation uses, resolved by its name.</summary>
    public ILockStrategy ResolveOperation(IServiceProvider services, string operation)
    {
        foreach (var (name, target, path) in _operations)
        {
            if (name == operation)
            {
                if (OperationProblem(name, target, path) is { } problem)
                {
                    throw new InvalidOperationException(problem);
                }

                return services.GetRequiredKeyedService<LockPipeline>(target!);
            }
        }

        throw new InvalidOperationException($"No operation '{operation}' is configured.");
    }

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
