namespace DualLock.Comparison.Chaos;

/// <summary>Command-line options of the chaos suite (<c>DualLock.Comparison chaos ...</c>, run by <c>benchmarks/chaos.sh</c>).</summary>
internal sealed record ChaosOptions
{
    public bool Quick { get; init; }

    /// <summary>The faults to inject, in this order; the negative control always runs first.</summary>
    public IReadOnlyList<string> Faults { get; init; } = FaultCatalogue.Names;

    /// <summary>Users sharing the load (every write locks one user).</summary>
    public int Users { get; init; } = 8;

    /// <summary>Closed-loop clients: each sends its next request when the previous one is answered.</summary>
    public int Clients { get; init; } = 24;

    /// <summary>Unmeasured load on a freshly started pair of instances before its first fault.</summary>
    public TimeSpan WarmUp { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Steady load before the first fault.</summary>
    public TimeSpan Before { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long each fault lasts (the Redis, MariaDB and PostgreSQL kills, the hang; each step of the Redlock fault).</summary>
    public TimeSpan FaultLength { get; init; } = TimeSpan.FromSeconds(6);

    /// <summary>How long an API instance stays SIGSTOPped; longer than <see cref="PauseLeaseMs"/>.</summary>
    public TimeSpan PauseLength { get; init; } = TimeSpan.FromSeconds(3.5);

    /// <summary>The Redis lease of the api-pause fault, shorter than the pause so the paused holder loses it.</summary>
    /// <remarks>Not 1 s: the Redis stage refuses a lease that is not longer than its operation timeout (1 s by default).</remarks>
    public int PauseLeaseMs { get; init; } = 2000;

    /// <summary>The race window of the api-pause fault, so a paused holder is likely between its read and its write.</summary>
    public int PauseRaceWindowMs { get; init; } = 30;

    /// <summary>Load observed after the fault ends.</summary>
    public TimeSpan After { get; init; } = TimeSpan.FromSeconds(8);

    /// <summary>A client gives up on a request after this long and counts it as ambiguous (CLIENT_TIMEOUT).</summary>
    public TimeSpan ClientTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long the replica misses the primary's writes before the redis-failover fault kills the primary (the writes the promotion loses).</summary>
    public int LoseWritesMs { get; init; } = 300;

    /// <summary>The StackExchange.Redis configuration through the Sentinels (<c>ConnectionStrings__RedisSentinel</c>), for the redis-failover fault.</summary>
    public string? SentinelRedis { get; init; } = Environment.GetEnvironmentVariable("ConnectionStrings__RedisSentinel") is { Length: > 0 } s ? s : null;

    public string? ApiPath { get; init; }

    public string OutputDirectory { get; init; } = Path.Combine("artifacts", "chaos");

    public static ChaosOptions Parse(IReadOnlyList<string> args)
    {
        var options = new ChaosOptions();
        var faults = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{name} needs a value.");
            switch (name)
            {
                case "--quick":
                    options = options with
                    {
                        Quick = true,
                        Clients = 12,
                        WarmUp = TimeSpan.FromSeconds(1.5),
                        Before = TimeSpan.FromSeconds(2),
                        FaultLength = TimeSpan.FromSeconds(2.5),
                        PauseLength = TimeSpan.FromSeconds(3),
                        After = TimeSpan.FromSeconds(3),
                    };
                    break;
                case "--fault":
                    foreach (var fault in Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        faults.Add(FaultCatalogue.Names.Contains(fault)
                            ? fault
                            : throw new ArgumentException($"Unknown fault '{fault}'; known: {string.Join(", ", FaultCatalogue.Names)}."));
                    }

                    break;
                case "--api":
                    options = options with { ApiPath = Value() };
                    break;
                case "--out":
                    options = options with { OutputDirectory = Value() };
                    break;
                default:
                    throw new ArgumentException($"Unknown option '{name}'. {Usage}");
            }
        }

        return faults.Count > 0 ? options with { Faults = faults.Distinct().ToArray() } : options;
    }

    public const string Usage = "Options: chaos [--quick] [--fault redis-kill,mysql-kill,postgres-kill,redis-hang,mysql-hang,api-pause,redlock-nodes,redis-failover ...] [--api path/UserPointApi.dll] [--out dir]";

    public string Describe()
        => $"{(Quick ? "--quick " : "")}--fault {string.Join(',', Faults)}: {Users} users, {Clients} closed-loop clients over 2 instances, "
           + $"{Before.TotalSeconds:0.#} s before, faults of {FaultLength.TotalSeconds:0.#} s (pause {PauseLength.TotalSeconds:0.#} s, lease {PauseLeaseMs} ms, race window {PauseRaceWindowMs} ms), "
           + $"{After.TotalSeconds:0.#} s after, client timeout {ClientTimeout.TotalSeconds:0.#} s";
}
