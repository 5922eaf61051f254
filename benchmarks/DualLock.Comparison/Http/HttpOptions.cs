using System.Globalization;

namespace DualLock.Comparison.Http;

/// <summary>Options of the HTTP side by side (benchmarks/http.sh).</summary>
internal sealed record HttpOptions
{
    /// <summary>The sample's strategies measured; each has its minimal counterpart in <see cref="HttpTarget.Pairs"/> or is compared with pessimistic.</summary>
    public IReadOnlyList<string> Strategies { get; init; } = ["none", "atomic", "pessimistic", "distributed", "dual"];

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(8);

    /// <summary>An unrecorded wrk run before each measured one (JIT, pools, caches); the report says so.</summary>
    public TimeSpan WarmUp { get; init; } = TimeSpan.FromSeconds(2);

    public int Connections { get; init; } = 32;

    public int Users { get; init; } = 1000;

    public int Runs { get; init; } = 1;

    /// <summary>Instances of each target on the same database; wrk splits the connections among them (one wrk per instance).</summary>
    public int Instances { get; init; } = 1;

    /// <summary>Reads statement counts (performance_schema) and Redis command counts: only meaningful on private servers nobody else uses.</summary>
    public bool ServerStats { get; init; }

    /// <summary>Collects the DualLock meter of the first instance with dotnet-counters during each measured window (<see cref="DualLockCounters"/>).</summary>
    public bool Counters { get; init; }

    public string OutputDirectory { get; init; } = Path.Combine("benchmarks", "results");

    public const string Usage = "http options: --strategies none,atomic,pessimistic,distributed,dual --duration 8s --warmup 2s --connections 32 --users 1000 --runs N --instances N --server-stats --counters --out dir";

    public static HttpOptions Parse(string[] args)
    {
        var options = new HttpOptions();
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{name} needs a value.");
            options = name switch
            {
                "--strategies" => options with { Strategies = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) },
                "--duration" => options with { Duration = Seconds(name, Value(), 1, 120) },
                "--warmup" => options with { WarmUp = Seconds(name, Value(), 0, 60) },
                "--connections" => options with { Connections = (int)Number(name, Value(), 1, 1000) },
                "--users" => options with { Users = (int)Number(name, Value(), 1, 100_000) },
                "--runs" => options with { Runs = (int)Number(name, Value(), 1, 20) },
                "--instances" => options with { Instances = (int)Number(name, Value(), 1, 4) },
                "--server-stats" => options with { ServerStats = true },
                "--counters" => options with { Counters = true },
                "--out" => options with { OutputDirectory = Value() },
                _ => throw new ArgumentException($"Unknown option '{name}'. {Usage}"),
            };
        }

        if (options.Connections < options.Instances)
        {
            throw new ArgumentException($"--connections ({options.Connections}) must be at least --instances ({options.Instances}): each instance gets its own wrk.");
        }

        foreach (var strategy in options.Strategies)
        {
            if (!ComparisonOptions.KnownStrategies.Contains(strategy))
            {
                throw new ArgumentException($"Unknown strategy '{strategy}'; known: {string.Join(", ", ComparisonOptions.KnownStrategies)}.");
            }
        }

        return options;
    }

    private static TimeSpan Seconds(string name, string value, double min, double max)
        => TimeSpan.FromSeconds(Number(name, value.TrimEnd('s'), min, max));

    private static double Number(string name, string value, double min, double max)
    {
        var number = double.Parse(value, CultureInfo.InvariantCulture);
        return number >= min && number <= max ? number : throw new ArgumentException($"{name} must be between {min} and {max} (was {value}).");
    }
}
