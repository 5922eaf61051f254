namespace DualLock.FaultSearch.Check;

/// <summary>
/// A broken invariant: <see cref="Code"/> is "invariant/strategy" (what <c>--allow</c> names), with how
/// many times and the first examples.
/// </summary>
internal sealed record Finding(string Invariant, string Strategy, int Count, IReadOnlyList<string> Examples)
{
    public const string Exclusion = "exclusion";
    public const string LostUpdate = "lost-update";
    public const string AppliedMissing = "applied-missing";
    public const string AppliedTwice = "applied-twice";
    public const string FailedButApplied = "failed-but-applied";
    public const string CommitOutcomeUnsaid = "commit-outcome-unsaid";
    public const string LostLeaseApplied = "lost-lease-applied";
    public const string TokenOrder = "token-order";
    public const string HandedOnAfterLoss = "handed-on-after-loss";
    public const string OverWait = "over-wait";
    public const string Wedge = "wedge";
    public const string NoFallback = "no-fallback";
    public const string WorkerExit = "worker-exit";

    public string Code => $"{Invariant}/{Strategy}";
}

/// <summary>Collects findings by code, keeping a few examples of each (bounded, however long the run).</summary>
internal sealed class FindingSet
{
    private const int MaxExamples = 5;
    private readonly Dictionary<string, (string Invariant, string Strategy, int Count, List<string> Examples)> _byCode = [];

    public void Add(string invariant, string strategy, string example)
    {
        var code = $"{invariant}/{strategy}";
        if (!_byCode.TryGetValue(code, out var entry))
        {
            entry = (invariant, strategy, 0, []);
        }

        if (entry.Examples.Count < MaxExamples)
        {
            entry.Examples.Add(example);
        }

        _byCode[code] = entry with { Count = entry.Count + 1 };
    }

    public IReadOnlyList<Finding> ToList()
        => [.. _byCode.Values.Select(e => new Finding(e.Invariant, e.Strategy, e.Count, e.Examples)).OrderBy(f => f.Code, StringComparer.Ordinal)];
}
