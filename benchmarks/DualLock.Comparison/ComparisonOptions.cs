using System.Globalization;

namespace DualLock.Comparison;

/// <summary>Command-line options of the comparison run.</summary>
internal sealed record ComparisonOptions
{
    public static readonly string[] AllStrategies = ["none", "local", "pessimistic", "distributed", "dual", "named", "optimistic", "atomic", "combined"];

    /// <summary>Every strategy the sample knows; <c>redlock</c> (three more Redis servers: <c>services.sh up redlock</c>) runs only when asked for.</summary>
    /// <remarks>The <c>-ef</c> names (<see cref="SampleStrategy.EfStrategies"/>) run the same strategy on the sample's EF Core data path; only when asked for.</remarks>
    public static readonly string[] KnownStrategies = [.. AllStrategies, "redlock", .. SampleStrategy.EfStrategies];

    /// <summary>The strategies that must lose updates: they prove the oracle can see a loss.</summary>
    public static readonly string[] NegativeControls = ["none", "local", "none-ef"];

    public IReadOnlyList<string> Strategies { get; init; } = AllStrategies;

    /// <summary>Length of the seed's constant-rate scenario; the spike lasts half of it, as in the seed (2 min / 60 s).</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Multiplies both arrival rates: 20 means 1,000 req/s constant plus a spike peaking at 1,000 req/s.</summary>
    public double Scale { get; init; } = 1;

    /// <summary>All traffic to one user at saturation instead of the seed's scenarios.</summary>
    public bool Hot { get; init; }

    /// <summary>
    /// A recorded warm-up before the measured phase: the same scenarios at their starting rates on the same users.
    /// Default: 5 s, which the tables say; <c>--warmup 0s</c> measures from the instances' first requests. Its own percentiles are reported apart.
    /// </summary>
    public TimeSpan WarmUp { get; init; } = TimeSpan.FromSeconds(5);

    public int Instances { get; init; } = 2;

    public int Runs { get; init; } = 1;

    /// <summary>Artificial delay between read and write inside the API's work, applied to every strategy alike (0 = none).</summary>
    public int RaceWindowMs { get; init; }

    /// <summary>Most requests in flight; arrivals beyond it are dropped and counted, as k6 does past maxVUs.</summary>
    public int MaxInFlight { get; init; } = 400;

    public string? ApiPath { get; init; }

    /// <summary>Offered load in steps up to saturation per strategy instead of the seed's scenarios (Sweep/SweepCommand.cs).</summary>
    public bool Sweep { get; init; }

    /// <summary>Length of one sweep step.</summary>
    public TimeSpan SweepStep { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>One constant arrival rate (per second) instead of the seed's scenarios: the sweep's steps set it.</summary>
    public double? ConstantRate { get; init; }

    public string OutputDirectory { get; init; } = Path.Combine("artifacts", "comparison");

    /// <summary>The database the sample runs on: <c>mysql</c> (default) or <c>postgres</c> (the sample's <c>Database</c> setting).</summary>
    public string Database { get; init; } = FreshDatabase.MySql;

    /// <summary>Gets the suffix of the result files: none for MySQL (the files the default run always wrote), <c>-postgres</c> for PostgreSQL.</summary>
    public string ResultSuffix => Database == FreshDatabase.MySql ? "" : "-" + Database;

    public static ComparisonOptions Parse(string[] args)
    {
        var options = new ComparisonOptions();
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{name} needs a value.");
            options = name switch
            {
                "--strategies" => options with { Strategies = ParseStrategies(Value()) },
                "--duration" => options with { Duration = ParseDuration(Value()) },
                "--scale" => options with { Scale = ParsePositive(name, Value(), 1000) },
                "--hot" => options with { Hot = true },
                "--warmup" => options with { WarmUp = ParseWarmUp(Value()) },
                "--instances" => options with { Instances = (int)ParsePositive(name, Value(), 8) },
                "--runs" => options with { Runs = (int)ParsePositive(name, Value(), 20) },
                "--race-window-ms" => options with { RaceWindowMs = (int)ParsePositive(name, Value(), 1000, allowZero: true) },
                "--max-in-flight" => options with { MaxInFlight = (int)ParsePositive(name, Value(), 5000) },
                "--api" => options with { ApiPath = Value() },
                "--sweep" => options with { Sweep = true },
                "--sweep-step" => options with { SweepStep = ParseDuration(Value()) },
                "--out" => options with { OutputDirectory = Value() },
                "--database" => options with { Database = ParseDatabase(Value()) },
                _ => throw new ArgumentException($"Unknown option '{name}'. {Usage}"),
            };
        }

        if (options.Database == FreshDatabase.Postgres && options.Strategies.FirstOrDefault(s => s.EndsWith(SampleStrategy.EfSuffix, StringComparison.Ordinal)) is { } ef)
        {
            throw new ArgumentException($"--strategies {ef}: the sample's EF Core path is MySQL only; with --database postgres use the raw strategies.");
        }

        if (options.Database == FreshDatabase.Postgres && options.Sweep)
        {
            throw new ArgumentException("--sweep runs on MySQL only; drop --database postgres or --sweep.");
        }

        return options;
    }

    private static string ParseDatabase(string value) => value switch
    {
        FreshDatabase.MySql or FreshDatabase.Postgres => value,
        _ => throw new ArgumentException($"--database must be mysql or postgres (was '{value}')."),
    };

    public const string Usage =
        "Options: --strategies none,local,pessimistic,distributed,dual,named,optimistic,atomic,combined[,redlock][,none-ef,pessimistic-ef,distributed-ef,dual-ef] --duration 20s|2m "
        + "--scale N --hot --warmup 0s|5s --instances N --runs N --race-window-ms N --max-in-flight N --api path/UserPointApi.dll --out dir --database mysql|postgres "
        + "--sweep [--sweep-step 5s]";

    private static string[] ParseStrategies(string value)
    {
        var strategies = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var strategy in strategies)
        {
            if (!KnownStrategies.Contains(strategy))
            {
                throw new ArgumentException($"Unknown strategy '{strategy}'; known: {string.Join(", ", KnownStrategies)}.");
            }
        }

        return strategies.Length > 0 ? strategies : throw new ArgumentException("--strategies needs at least one strategy.");
    }

    private static TimeSpan ParseDuration(string value)
    {
        var unit = value[^1];
        var number = double.Parse(char.IsDigit(unit) ? value : value[..^1], CultureInfo.InvariantCulture);
        var duration = unit switch
        {
            'm' => TimeSpan.FromMinutes(number),
            's' or >= '0' and <= '9' => TimeSpan.FromSeconds(number),
            _ => throw new ArgumentException($"--duration '{value}': use seconds ('20s') or minutes ('2m')."),
        };
        return duration >= TimeSpan.FromSeconds(2) && duration <= TimeSpan.FromMinutes(30)
            ? duration
            : throw new ArgumentException("--duration must be between 2s and 30m (load runs are bounded).");
    }

    private static TimeSpan ParseWarmUp(string value)
    {
        var warmUp = value is "0" or "0s" ? TimeSpan.Zero : ParseDuration(value);
        return warmUp <= TimeSpan.FromMinutes(2) ? warmUp : throw new ArgumentException("--warmup must be at most 2m.");
    }

    private static double ParsePositive(string name, string value, double max, bool allowZero = false)
    {
        var number = double.Parse(value, CultureInfo.InvariantCulture);
        return (number > 0 || (allowZero && number == 0)) && number <= max
            ? number
            : throw new ArgumentException($"{name} must be {(allowZero ? "between 0" : "above 0")} and at most {max} (was {value}).");
    }
}
