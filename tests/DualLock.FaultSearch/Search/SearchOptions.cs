using System.Globalization;
using DualLock.FaultSearch.Workload;

namespace DualLock.FaultSearch.Search;

/// <summary>The coordinator's command line; see docs/fault-search.md.</summary>
internal sealed class SearchOptions
{
    public int FirstSeed { get; private set; } = 1;

    /// <summary>Gets how many seeds to run (from <see cref="FirstSeed"/>), unless <see cref="Minutes"/> is set.</summary>
    public int Seeds { get; private set; } = 1;

    /// <summary>Gets the long search's budget: new seeds until it is spent.</summary>
    public double? Minutes { get; private set; }

    /// <summary>Gets how long one seed's faults run.</summary>
    public TimeSpan Length { get; private set; } = TimeSpan.FromSeconds(20);

    /// <summary>Gets the mean time between faults.</summary>
    public TimeSpan Spacing { get; private set; } = TimeSpan.FromMilliseconds(700);

    public IReadOnlyList<StrategySpec> Strategies { get; private set; } = StrategySpec.All;

    public int Clients { get; private set; } = 3;

    public int Keys { get; private set; } = 2;

    public bool MySqlRestart { get; private set; } = true;

    /// <summary>Gets the finding codes ("invariant/strategy", "invariant/*") that are known and reported, not failed on.</summary>
    public List<string> Allowed { get; } = [];

    public string Output { get; private set; } = Path.Combine("artifacts", "fault-search");

    public string Repository { get; private set; } = Directory.GetCurrentDirectory();

    public static SearchOptions Parse(string[] args)
    {
        var options = new SearchOptions();
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--seed": options.FirstSeed = Int(value); options.Seeds = 1; break;
                case "--first-seed": options.FirstSeed = Int(value); break;
                case "--seeds": options.Seeds = Int(value); break;
                case "--minutes": options.Minutes = double.Parse(value, CultureInfo.InvariantCulture); break;
                case "--length": options.Length = TimeSpan.FromSeconds(Int(value)); break;
                case "--spacing-ms": options.Spacing = TimeSpan.FromMilliseconds(Int(value)); break;
                case "--strategies": options.Strategies = [.. value.Split(',').Select(StrategySpec.Find)]; break;
                case "--clients": options.Clients = Int(value); break;
                case "--keys": options.Keys = Int(value); break;
                case "--mysql-restart": options.MySqlRestart = bool.Parse(value); break;
                case "--allow": options.Allowed.AddRange(value.Split(',', StringSplitOptions.RemoveEmptyEntries)); break;
                case "--out": options.Output = value; break;
                case "--repo": options.Repository = value; break;
                default: throw new ArgumentException($"Unknown option '{args[i]}'.");
            }

            i++;
        }

        if (options.Keys is < 1 or > 16 || options.Clients is < 1 or > 32 || options.Seeds < 1)
        {
            throw new ArgumentException("--keys must be 1..16, --clients 1..32, --seeds at least 1.");
        }

        return options;
    }

    public bool IsAllowed(string code)
        => Allowed.Any(a => a == code || (a.EndsWith("/*", StringComparison.Ordinal) && code.StartsWith(a[..^1], StringComparison.Ordinal)));

    private static int Int(string value) => int.Parse(value, CultureInfo.InvariantCulture);
}
