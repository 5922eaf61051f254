namespace DualLock.Comparison;

/// <summary>
/// A comparison strategy name as the sample's settings: a plain name is <c>Locking:Strategy</c>; a name ending in
/// <c>-ef</c> is the same strategy with the sample's EF Core data path (<c>Points:DataAccess=ef</c>), so what EF Core
/// costs is measured beside the raw path by the same load and checked by the same oracle.
/// </summary>
internal static class SampleStrategy
{
    public const string EfSuffix = "-ef";

    /// <summary>The strategies the sample runs on its EF Core path (samples/UserPointApi/Locking/EfStrategyWiring.cs), and the no-lock control.</summary>
    public static readonly string[] EfStrategies = ["none-ef", "pessimistic-ef", "distributed-ef", "dual-ef"];

    public static void AddSettings(IDictionary<string, string> env, string strategy)
    {
        if (strategy.EndsWith(EfSuffix, StringComparison.Ordinal))
        {
            env["Locking__Strategy"] = strategy[..^EfSuffix.Length];
            env["Points__DataAccess"] = "ef";
        }
        else
        {
            env["Locking__Strategy"] = strategy;
        }
    }

    /// <summary>A database-name-safe form of the strategy name.</summary>
    public static string DatabaseName(string strategy) => strategy.Replace('-', '_');
}
