using System.Globalization;

namespace DualLock.Benchmarks;

/// <summary>Options of <see cref="ContentionHarness"/>: <c>contention --lib duallock|madelson|redlock [--tuned] --callers 64 --hold-ms 1 --duration 5 --processes 1</c>.</summary>
internal sealed record HarnessOptions
{
    public string Library { get; init; } = "duallock";

    public bool Tuned { get; init; }

    public int Callers { get; init; } = 64;

    public double HoldMs { get; init; } = 1;

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(5);

    public int Processes { get; init; } = 1;

    public string Key { get; init; } = $"bench-hot-{Guid.NewGuid():N}";

    public bool IsChild { get; init; }

    /// <summary>DualLock's MaxConsecutiveHandoffs, when not the default.</summary>
    public int? Handoffs { get; init; }

    public DateTimeOffset StartAt { get; init; }

    /// <summary>What is contended: <c>exclusive</c> (a lock), <c>pair</c> (two keys every caller locks together), <c>rw</c> (a reader-writer lock) or <c>sem</c> (a semaphore).</summary>
    public string Mode { get; init; } = "exclusive";

    /// <summary>The share of writes in <c>rw</c> mode, in percent (0: readers only).</summary>
    public int WritePercent { get; init; }

    /// <summary>The semaphore's permits in <c>sem</c> mode.</summary>
    public int Permits { get; init; } = 4;

    public string Settings => Library switch
    {
        "duallock" when Mode == "pair" => "key pair: one ExecuteAsync([a, b]) (canonical order)",
        "duallock-nested" => "key pair: nested ExecuteAsync(a) { ExecuteAsync(b) } in the caller's order (negative control)",
        "madelson" when Mode == "pair" => "key pair: two locks, sorted" + (Tuned ? ", BusyWaitSleepTime 1-10 ms (tuned)" : ", BusyWaitSleepTime 10-800 ms (library default)"),
        "madelson" when Mode != "exclusive" => ModeSettings + (Tuned ? ", BusyWaitSleepTime 1-10 ms (tuned)" : ", BusyWaitSleepTime 10-800 ms (library default)"),
        "duallock" when Mode != "exclusive" => ModeSettings + ", defaults (pub/sub wake-up, local fair queue)",
        "madelson" => Tuned ? "BusyWaitSleepTime 1-10 ms (tuned)" : "BusyWaitSleepTime 10-800 ms (library default)",
        "redlock" => Tuned ? "retry every 5 ms (tuned)" : "retry every 50 ms",
        "duallock" => "defaults (pub/sub wake-up, local queue and hand-off)",
        "inprocess" => "in-process stage (harness ceiling)",
        _ => "MariaDB, durable commits",
    };

    private string ModeSettings => Mode == "rw" ? $"reader-writer, {WritePercent} % writes" : $"semaphore of {Permits}";

    public static HarnessOptions Parse(string[] args)
    {
        var options = new HarnessOptions();
        var keyGiven = false;
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            string Value() => args[++i];
            switch (name)
            {
                case "--lib": options = options with { Library = Value() }; break;
                case "--tuned": options = options with { Tuned = true }; break;
                case "--callers": options = options with { Callers = int.Parse(Value(), CultureInfo.InvariantCulture) }; break;
                case "--hold-ms": options = options with { HoldMs = double.Parse(Value(), CultureInfo.InvariantCulture) }; break;
                case "--duration": options = options with { Duration = TimeSpan.FromSeconds(double.Parse(Value(), CultureInfo.InvariantCulture)) }; break;
                case "--processes": options = options with { Processes = int.Parse(Value(), CultureInfo.InvariantCulture) }; break;
                case "--key": options = options with { Key = Value() }; keyGiven = true; break;
                case "--mode": options = options with { Mode = Value() }; break;
                case "--write-percent": options = options with { WritePercent = int.Parse(Value(), CultureInfo.InvariantCulture) }; break;
                case "--permits": options = options with { Permits = int.Parse(Value(), CultureInfo.InvariantCulture) }; break;
                case "--handoffs": options = options with { Handoffs = int.Parse(Value(), CultureInfo.InvariantCulture) }; break;
                case "--child":
                    options = options with { IsChild = true, StartAt = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(Value(), CultureInfo.InvariantCulture)) };
                    break;
                default: throw new ArgumentException($"unknown option {name}");
            }
        }

        if (options.Processes > 1 && !keyGiven && !options.IsChild)
        {
            throw new ArgumentException("--processes > 1 needs --key so every process contends for the same key");
        }

        return options;
    }
}
