namespace DualLock.Comparison.Http;

/// <summary>One server measured by wrk: the sample with a strategy, or the minimal endpoint with a mode.</summary>
internal sealed record HttpTarget(string Name, bool Minimal, string Setting)
{
    /// <summary>Sample strategy -> the minimal endpoint doing the same locking (ratio target >= 0.7x).</summary>
    public static readonly IReadOnlyDictionary<string, string> Pairs = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["pessimistic"] = "minimal-locked",
        ["atomic"] = "minimal-atomic",
        ["none"] = "minimal-plain",
    };

    /// <summary>The targets whose stored sums may fall short of the acknowledged charges (no lock).</summary>
    public bool MayLoseUpdates => Setting is "none" or "plain" or "local" or "none-ef";

    public static IReadOnlyList<HttpTarget> For(HttpOptions options)
    {
        var targets = new List<HttpTarget>();
        foreach (var strategy in options.Strategies)
        {
            // Each sample strategy right after its minimal counterpart, so a pair is measured close in time.
            if (Pairs.TryGetValue(strategy, out var minimal))
            {
                targets.Add(new HttpTarget(minimal, true, minimal["minimal-".Length..]));
            }

            targets.Add(new HttpTarget(strategy, false, strategy));
        }

        return targets;
    }
}
