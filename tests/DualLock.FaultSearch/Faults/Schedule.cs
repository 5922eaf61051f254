using DualLock.FaultSearch.Proxy;
using DualLock.FaultSearch.Workload;

namespace DualLock.FaultSearch.Faults;

/// <summary>
/// A fault schedule drawn from a seed: which faults, when, how long. The same seed gives the same
/// schedule (the interleaving of the clients is the machine's, so a replay re-runs the schedule, not the exact history).
/// </summary>
internal static class Schedule
{
    private static readonly string[] Errors =
    [
        "NOREPLICAS Not enough good replicas to write.",
        "READONLY You can't write against a read only replica.",
        "OOM command not allowed when used memory > 'maxmemory'.",
        "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSCRIPT.",
    ];

    private static readonly string[] Roles = [CommandRoles.Acquire, CommandRoles.Release, CommandRoles.Extend, CommandRoles.Keep, CommandRoles.Gate, "*"];

    /// <summary>About one PostgreSQL fault per four others: session kills, and one server restart (SIGKILL) a seed unless restarts are off.</summary>
    private static void AddPostgresFaults(Random random, TimeSpan length, int others, bool restart, List<FaultEvent> faults)
    {
        for (var i = 0; i < Math.Max(1, others / 4); i++)
        {
            var kind = restart && i == 0 ? FaultKinds.PostgresRestart : FaultKinds.PostgresKill;
            var at = TimeSpan.FromMilliseconds(random.Next((int)length.TotalMilliseconds));
            faults.Add(new FaultEvent(at, kind, "*", string.Empty, TimeSpan.Zero, TimeSpan.Zero, 1.0, string.Empty, 0, random.Next(1, 4)));
        }
    }

    /// <summary>Draws the faults of one run: about one every <paramref name="spacing"/>, within <paramref name="length"/>.</summary>
    public static IReadOnlyList<FaultEvent> Create(int seed, TimeSpan length, TimeSpan spacing, IReadOnlyList<StrategySpec> strategies, int keys, bool mysqlRestart)
    {
        var random = new Random(seed);
        var redisKeyed = strategies.Where(s => s.Name is not (StrategySpec.Pessimistic or StrategySpec.NamedLock or StrategySpec.None)).ToList();
        var count = Math.Max(1, (int)(length / spacing));
        var faults = new List<FaultEvent>();
        var restarted = false;
        for (var i = 0; i < count; i++)
        {
            var at = TimeSpan.FromMilliseconds(random.Next((int)length.TotalMilliseconds));
            var roll = random.Next(100);
            var kind = roll switch
            {
                < 20 => FaultKinds.ProxyError,
                < 30 => FaultKinds.ProxyDelay,
                < 39 => FaultKinds.ProxyDrop,
                < 46 => FaultKinds.ProxyReset,
                < 50 => FaultKinds.ResetAll,
                < 62 => FaultKinds.RedisDelete,
                < 70 => FaultKinds.RedisDeleteBurst,
                < 78 => FaultKinds.RedisExpire,
                < 88 => FaultKinds.MySqlKill,
                < 96 => FaultKinds.MySqlKillQuery,
                _ => mysqlRestart && !restarted ? FaultKinds.MySqlRestart : FaultKinds.MySqlKill,
            };
            restarted |= kind == FaultKinds.MySqlRestart;
            if (kind is FaultKinds.RedisDelete or FaultKinds.RedisDeleteBurst or FaultKinds.RedisExpire && redisKeyed.Count == 0)
            {
                kind = FaultKinds.ResetAll;
            }

            // Half the key faults go to the strategies whose only exclusion is the Redis lock key (with its local
            // hand-off): there a mishandled lost lease lets two holders in; elsewhere a row lock or fence hides it.
            var bare = redisKeyed.Where(s => s.Name is StrategySpec.Redis or StrategySpec.MultiKey).ToList();
            var pool = bare.Count > 0 && random.Next(2) == 0 ? bare : redisKeyed;
            var handingOff = redisKeyed.Where(s => s.HandsOff).ToList();
            if (kind == FaultKinds.RedisDeleteBurst && handingOff.Count > 0)
            {
                pool = handingOff; // the burst is aimed at the local hand-off of a Redis lease
            }

            var strategy = pool.Count == 0 ? string.Empty : pool[random.Next(pool.Count)].Name;
            faults.Add(new FaultEvent(
                at,
                kind,
                Roles[random.Next(Roles.Length)],
                Errors[random.Next(Errors.Length)],
                TimeSpan.FromMilliseconds(random.Next(200, 3000)),
                TimeSpan.FromMilliseconds(kind == FaultKinds.RedisExpire ? random.Next(1, 50) : random.Next(50, 1500)),
                random.Next(3) == 0 ? 1.0 : Math.Round(0.2 + (random.NextDouble() * 0.6), 2),
                strategy,
                random.Next(keys),
                random.Next(1, 4)));
        }

        if (strategies.Any(s => s.Postgres))
        {
            // PostgreSQL's faults from a stream of their own, so adding them leaves the rest of a seed's schedule as it was.
            AddPostgresFaults(new Random(unchecked((seed * 7_919) + 17)), length, count, mysqlRestart, faults);
        }

        return [.. faults.OrderBy(f => f.At)];
    }
}
