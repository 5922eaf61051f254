namespace DualLock.Comparison.Chaos;

/// <summary>One action of a fault at a fixed offset from the start of the load; it opens the phase it names.</summary>
/// <param name="At">When to act, from the start of the load.</param>
/// <param name="Action">What is done (shown in the timeline).</param>
/// <param name="Phase">The phase this step opens (empty for the last step, which ends the fault).</param>
/// <param name="Act">The action itself.</param>
internal sealed record FaultStep(TimeSpan At, string Action, string Phase, Func<FaultTarget, Task> Act);

/// <summary>A fault: the strategies it runs against, their settings, its steps and how to undo it if the run fails midway.</summary>
internal sealed record Fault(
    string Name,
    string Description,
    IReadOnlyList<string> Strategies,
    IReadOnlyDictionary<string, string> Settings,
    IReadOnlyList<FaultStep> Steps,
    Func<FaultTarget, Task> Undo)
{
    /// <summary>Gets the length of the load: before the first step, the fault, and the observation after the last step.</summary>
    public required TimeSpan LoadLength { get; init; }
}

/// <summary>The faults of the chaos suite, one at a time against two real API instances under load.</summary>
internal static class FaultCatalogue
{
    public const string Control = "control";

    public static readonly string[] Names = ["redis-kill", "mysql-kill", "postgres-kill", "redis-hang", "mysql-hang", "api-pause", "redlock-nodes", "redis-failover"];

    /// <summary>The settings that run the sample on the suite's PostgreSQL (the faults on it, and the control when only they run).</summary>
    public static readonly IReadOnlyDictionary<string, string> OnPostgres = new Dictionary<string, string> { ["Database"] = FreshDatabase.Postgres };

    private static readonly Dictionary<string, string> NoSettings = [];

    /// <summary>The negative control: <c>none</c> under the same load for as long as a fault run; the oracle must see it lose.</summary>
    /// <remarks>On PostgreSQL when every fault asked for runs there, so the oracle is proven on the database it then checks.</remarks>
    public static Fault NegativeControl(ChaosOptions o) => new(
        Control,
        "no fault; strategy none (no lock) must lose updates, or the oracle is not proven",
        ["none"],
        o.Faults.All(f => f == "postgres-kill") ? OnPostgres : NoSettings,
        [],
        _ => Task.CompletedTask)
    { LoadLength = o.Before + o.FaultLength + o.After };

    public static Fault Get(string name, ChaosOptions o)
    {
        var start = o.Before;
        var end = o.Before + o.FaultLength;
        var length = end + o.After;
        return name switch
        {
            "redis-kill" => new Fault(
                name,
                $"main Redis SIGKILLed, down {o.FaultLength.TotalSeconds:0.#} s, restarted EMPTY (no persistence); pessimistic (no Redis) is the reference rate",
                ["pessimistic", "dual", "distributed", "combined"],
                NoSettings,
                [
                    new(start, "kill -9 Redis", "Redis down", t => t.ServicesAsync("kill-redis")),
                    new(end, "Redis restarted empty", "", t => t.ServicesAsync("start-redis", "--empty")),
                ],
                t => t.ServicesAsync("start-redis"))
            { LoadLength = length },
            "mysql-kill" => new Fault(
                name,
                $"MariaDB SIGKILLed, down {o.FaultLength.TotalSeconds:0.#} s, restarted (InnoDB crash recovery; durable commits)",
                ["pessimistic", "dual", "combined"],
                NoSettings,
                [
                    new(start, "kill -9 MariaDB", "MariaDB down", t => t.ServicesAsync("kill-mysql")),
                    new(end, "MariaDB restarted", "", t => t.ServicesAsync("start-mysql")),
                ],
                t => t.ServicesAsync("start-mysql"))
            { LoadLength = length },
            // The same fault on PostgreSQL: the postmaster SIGKILLed (its backends exit with it), restarted with crash
            // recovery from the WAL (fsync and synchronous_commit on: an acknowledged commit survives).
            "postgres-kill" => new Fault(
                name,
                $"PostgreSQL SIGKILLed, down {o.FaultLength.TotalSeconds:0.#} s, restarted (WAL crash recovery; durable commits)",
                ["pessimistic", "dual", "combined"],
                OnPostgres,
                [
                    new(start, "kill -9 PostgreSQL", "PostgreSQL down", t => t.ServicesAsync("kill-postgres")),
                    new(end, "PostgreSQL restarted", "", t => t.ServicesAsync("start-postgres")),
                ],
                t => t.ServicesAsync("start-postgres"))
            { LoadLength = length },
            "redis-hang" => new Fault(
                name,
                $"main Redis SIGSTOPped {o.FaultLength.TotalSeconds:0.#} s, then SIGCONT: hung (connections accepted, no answer), not refused",
                ["dual", "distributed"],
                NoSettings,
                [
                    new(start, "kill -STOP Redis", "Redis hung", t => t.ServicesAsync("pause-redis")),
                    new(end, "kill -CONT Redis", "", t => t.ServicesAsync("resume-redis")),
                ],
                t => t.ServicesAsync("resume-redis"))
            { LoadLength = length },
            // MariaDB stopped, not killed: its sockets stay open and answer nothing, so only the stages' own bounds end
            // a wait (MySqlConnector reads BEGIN's answer with no timeout). Every strategy on the database is in it.
            "mysql-hang" => new Fault(
                name,
                $"MariaDB SIGSTOPped {o.FaultLength.TotalSeconds:0.#} s, then SIGCONT: hung (connections accepted, no answer), not refused",
                ["pessimistic", "dual", "combined"],
                NoSettings,
                [
                    new(start, "kill -STOP MariaDB", "MariaDB hung", t => t.ServicesAsync("pause-mysql")),
                    new(end, "kill -CONT MariaDB", "", t => t.ServicesAsync("resume-mysql")),
                ],
                t => t.ServicesAsync("resume-mysql"))
            { LoadLength = length },
            "api-pause" => new Fault(
                name,
                $"API instance 1 SIGSTOPped {o.PauseLength.TotalSeconds:0.#} s, past its {o.PauseLeaseMs} ms lease, with a {o.PauseRaceWindowMs} ms race window (holders paused mid-write)",
                ["distributed", "dual", "combined"],
                new Dictionary<string, string>
                {
                    ["Locking__LeaseMs"] = o.PauseLeaseMs.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["Locking__RaceWindowMs"] = o.PauseRaceWindowMs.ToString(System.Globalization.CultureInfo.InvariantCulture),
                },
                [
                    new(start, "kill -STOP API 1", "API 1 paused", t => t.SignalApiAsync(0, "STOP")),
                    new(start + o.PauseLength, "kill -CONT API 1", "", t => t.SignalApiAsync(0, "CONT")),
                ],
                t => t.SignalApiAsync(0, "CONT"))
            { LoadLength = start + o.PauseLength + o.After },
            "redlock-nodes" => new Fault(
                name,
                $"Redlock: one of 3 nodes SIGKILLed for {o.FaultLength.TotalSeconds:0.#} s (quorum kept), then a second for {o.FaultLength.TotalSeconds:0.#} s (quorum lost), then both restarted",
                ["redlock"],
                NoSettings,
                [
                    new(start, "kill -9 Redlock node 1", "1 of 3 down", t => t.ServicesAsync("kill-redis-node", t.RedlockPort(0))),
                    new(end, "kill -9 Redlock node 2", "2 of 3 down", t => t.ServicesAsync("kill-redis-node", t.RedlockPort(1))),
                    new(end + o.FaultLength, "Redlock nodes 1 and 2 restarted", "", async t =>
                    {
                        await t.ServicesAsync("start-redis-node", t.RedlockPort(0));
                        await t.ServicesAsync("start-redis-node", t.RedlockPort(1));
                    }),
                ],
                async t =>
                {
                    await t.ServicesAsync("start-redis-node", t.RedlockPort(0));
                    await t.ServicesAsync("start-redis-node", t.RedlockPort(1));
                })
            { LoadLength = end + o.FaultLength + o.After },
            "redis-failover" => new Fault(
                name,
                $"replicated Redis through 3 Sentinels: the replica cut off for the primary's last {o.LoseWritesMs} ms of writes, the primary SIGKILLed while locks are held, the replica promoted without them; the old primary restarted as a replica {o.FaultLength.TotalSeconds:0.#} s later",
                ["dual", "distributed"],
                new Dictionary<string, string> { ["ConnectionStrings__Redis"] = o.SentinelRedis ?? throw new InvalidOperationException("ConnectionStrings__RedisSentinel is not set: run the suite through benchmarks/chaos.sh (it starts the Sentinel set).") },
                [
                    new(start, "kill -9 the Redis primary", "failing over", t => t.ServicesAsync("kill-redis-primary", "--lose-writes", o.LoseWritesMs.ToString(System.Globalization.CultureInfo.InvariantCulture))),
                    new(end, "old primary restarted as a replica", "", t => t.ServicesAsync("start-redis-replicated")),
                ],
                t => t.ServicesAsync("start-redis-replicated"))
            { LoadLength = length },
            _ => throw new ArgumentException($"Unknown fault '{name}'."),
        };
    }
}
