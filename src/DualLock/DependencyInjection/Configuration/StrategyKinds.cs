namespace DualLock;

/// <summary>
/// The kinds a configured strategy may name, each with the keys it reads and how it adds its stages. The core adds
/// <c>in-process</c>; the MySQL and Redis packages add theirs when their builder extensions are called.
/// </summary>
internal sealed class StrategyKinds
{
    private readonly Dictionary<string, StrategyKind> _kinds = new(StringComparer.OrdinalIgnoreCase);

    public StrategyKinds()
        => Add(new StrategyKind("in-process", ["MaxQueueLength"], static (section, pipeline, _) =>
        {
            var options = new InProcessLockOptions();
            options.MaxQueueLength = section.Int(nameof(options.MaxQueueLength)) ?? options.MaxQueueLength;
            section.AddAll(options.Validate());
            return () => pipeline.AddInProcessLock(options);
        }));

    /// <summary>Gets the database parts (<c>row-lock</c>, <c>fenced-transaction</c>) the Redis kinds put inside their lock.</summary>
    public Dictionary<string, StrategyKind> DatabaseParts { get; } = new(StringComparer.Ordinal);

    public void Add(StrategyKind kind) => _kinds[kind.Name] = kind;

    public bool TryGet(string name, out StrategyKind kind) => _kinds.TryGetValue(name, out kind!);

    public string Known => string.Join(", ", _kinds.Keys.Order(StringComparer.Ordinal));
}

/// <summary>
/// One kind: the keys it reads besides <c>Kind</c> and <c>WaitTimeout</c>, and a reader that collects its problems
/// and returns what adds the stages (run only when the section had no problem).
/// </summary>
internal sealed record StrategyKind(string Name, IReadOnlyCollection<string> Keys, Func<StrategySection, LockPipelineBuilder, IServiceProvider, Action> Read);
