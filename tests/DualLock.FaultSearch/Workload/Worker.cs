using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using StackExchange.Redis;

namespace DualLock.FaultSearch.Workload;

/// <summary>
/// Worker mode: one of the two client processes. Runs N clients per strategy over a few hot keys until
/// the coordinator drops the stop file, then lets leases run out and probes every key (no wedge).
/// </summary>
internal static class Worker
{
    public static async Task<int> RunAsync(WorkerArguments args)
    {
        var pid = Environment.ProcessId;
        using var hardStop = new CancellationTokenSource(args.MaxRun); // bounded even if the coordinator never says stop
        using var log = new WorkerLog(Path.Combine(args.RunDirectory, $"log-{pid}.txt"));
        var redis = await ConnectAsync(args.Redis, log);
        var redlock = new List<IConnectionMultiplexer>();
        foreach (var node in args.Redlock)
        {
            redlock.Add(await ConnectAsync(node, log));
        }

        var targets = new WorkerTargets(redis, redlock, args.MySql, args.Postgres, log);
        await using var history = new StreamWriter(Path.Combine(args.RunDirectory, $"history-{pid}.jsonl")) { AutoFlush = true };
        var historyGate = new Lock();
        var strategies = args.Strategies.Select(StrategySpec.Find).ToList();
        var works = strategies.Select(s => new CallWork(s, args.MySql, args.WitnessPort)).ToList();
        var runners = strategies.Select((s, i) => StrategyFactory.Create(s, targets, works[i])).ToList();
        var stopFile = Path.Combine(args.RunDirectory, "stop");
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(hardStop.Token);
        var watcher = Task.Run(async () =>
        {
            while (!File.Exists(stopFile) && !stopping.IsCancellationRequested)
            {
                await Task.Delay(50, CancellationToken.None);
            }

            await stopping.CancelAsync();
        });

        var clients = new List<Task>();
        for (var s = 0; s < strategies.Count; s++)
        {
            // The strategies that hand a Redis lease to local callers get twice the clients, so a key has a local
            // queue to hand to when a fault takes the lease: that hand-off is what the delete bursts aim at.
            var perStrategy = strategies[s].HandsOff ? args.Clients * 2 : args.Clients;
            for (var c = 0; c < perStrategy; c++)
            {
                var spec = strategies[s];
                var runner = runners[s];
                var random = new Random(HashCode.Combine(args.Seed, pid, s, c));
                var client = c;
                var coldStart = TimeSpan.FromMilliseconds(40 * s);
                clients.Add(Task.Run(async () =>
                {
                    // The strategies start 40 ms apart: every client's first call opening its connections (a PostgreSQL
                    // session is a forked process) and compiling its path at once took over 4 s on the 2 loaded cores,
                    // the wait bound plus its slack, before any fault ran.
                    await Task.Delay(coldStart, CancellationToken.None);
                    for (long n = 0; !stopping.IsCancellationRequested; n++)
                    {
                        var call = NewCall(spec, args.Keys, random, $"{pid}-{spec.Name}-{client}-{n}", pid);
                        await RunCallAsync(runner, call, hardStop.Token);
                        if (call.Outcome != CallRecord.Applied)
                        {
                            // A client backs off after a failure, as an application would; a refusal that comes
                            // back at once would otherwise spin the 2 cores and starve every other client.
                            await Task.Delay(random.Next(5, 20), CancellationToken.None);
                        }

                        var line = JsonSerializer.Serialize(call, HistoryJson.Default.CallRecord);
                        lock (historyGate)
                        {
                            history.WriteLine(line);
                        }
                    }
                }));
            }
        }

        await Task.WhenAll(clients);
        await watcher;

        // Leases of holders that lost their release (a reset, a lost reply) run out first: a key still
        // held by nobody after that, and after every call above has returned, is wedged.
        await Task.Delay(StrategyFactory.Lease + TimeSpan.FromMilliseconds(500), CancellationToken.None);
        await using (var probes = new StreamWriter(Path.Combine(args.RunDirectory, $"probe-{pid}.jsonl")))
        {
            var results = await Task.WhenAll(strategies.Select((s, i) => ProbeAsync(s, runners[i], args.Keys, pid, redis)));
            foreach (var probe in results.SelectMany(r => r))
            {
                await probes.WriteLineAsync(JsonSerializer.Serialize(probe, HistoryJson.Default.ProbeRecord));
            }
        }

        foreach (var work in works)
        {
            await work.DisposeAsync();
        }

        foreach (var connection in redlock.Append(redis))
        {
            await connection.DisposeAsync();
        }

        return 0;
    }

    private static CallRecord NewCall(StrategySpec spec, int keys, Random random, string id, int pid)
    {
        var first = random.Next(keys);
        LockKey[] set = spec.Name == StrategySpec.MultiKey && keys > 1 && random.Next(3) > 0
            ? [spec.Key(first), spec.Key((first + 1 + random.Next(keys - 1)) % keys)]
            : [spec.Key(first)];
        var kind = spec.Name switch
        {
            StrategySpec.ReaderWriter => random.Next(5) < 3 ? "r" : "w",
            StrategySpec.Semaphore => "s",
            _ => "x",
        };
        return new CallRecord
        {
            Id = id, Holder = id, Strategy = spec.Name, Kind = kind, Pid = pid, Keys = set,
            KeyIds = [.. set.Select(StrategySpec.KeyName)], StartTimestamp = Stopwatch.GetTimestamp(),
        };
    }

    private static async Task RunCallAsync(StrategyRunner runner, CallRecord call, CancellationToken cancellationToken)
    {
        try
        {
            await runner.RunAsync(call, cancellationToken);
            call.Outcome = CallRecord.Applied;
        }
        catch (Exception ex)
        {
            var harness = ex is HarnessLedgerException || ex.InnerException is HarnessLedgerException;
            call.Outcome = harness ? CallRecord.HarnessError : CallRecord.Failed;
            call.Error = ex.GetType().Name;
            call.Message = ex.Message.Length > 600 ? ex.Message[..600] : ex.Message;
            call.RefusedToken = (ex as LockLeaseLostException)?.RefusedFencingToken;
        }

        call.EndMs = Stopwatch.GetElapsedTime(call.StartTimestamp).TotalMilliseconds;
    }

    private static async Task<List<ProbeRecord>> ProbeAsync(StrategySpec spec, StrategyRunner runner, int keys, int pid, IConnectionMultiplexer redis)
    {
        var results = new List<ProbeRecord>();
        for (var k = 0; k < keys; k++)
        {
            var key = spec.Key(k);
            var startedAt = Environment.TickCount64;
            var started = Stopwatch.GetTimestamp();
            bool acquired;
            string? error = null;
            try
            {
                acquired = await runner.ProbeAsync(key);
            }
            catch (Exception ex)
            {
                acquired = false;
                error = ex.GetType().Name + ": " + ex.Message;
            }

            var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            bool? later = null;
            string? state = null;
            if (!acquired)
            {
                state = await RedisStateAsync(redis, StrategySpec.KeyName(key));
                // Tells a key held for good (a turn or lock left behind) from one slow to get on a loaded machine:
                // both break the invariant, only the first is a wedge for a user.
                await Task.Delay(TimeSpan.FromSeconds(3), CancellationToken.None);
                try
                {
                    later = await runner.ProbeAsync(key);
                }
                catch (Exception)
                {
                    later = false;
                }
            }

            results.Add(new ProbeRecord(spec.Name, StrategySpec.KeyName(key), pid, acquired, ms, error, later, startedAt, state));
        }

        return results;
    }

    /// <summary>Every Redis key of one lock key (lock, turn, fence ...) with its value and PTTL: what a failed probe ran into.</summary>
    private static async Task<string> RedisStateAsync(IConnectionMultiplexer redis, string keyName)
    {
        try
        {
            var server = redis.GetServers()[0];
            var db = redis.GetDatabase();
            var parts = new List<string>();
            await foreach (var name in server.KeysAsync(pattern: $"{StrategyFactory.Prefix}:*{{*{keyName}}}*", pageSize: 100))
            {
                var type = await db.KeyTypeAsync(name);
                var value = type == RedisType.String ? (string?)await db.StringGetAsync(name) : type.ToString();
                parts.Add(FormattableString.Invariant($"{name}={value} pttl={(long)(await db.ExecuteAsync("PTTL", name))}"));
            }

            return parts.Count == 0 ? "no key" : string.Join("; ", parts);
        }
        catch (Exception ex)
        {
            return "state unreadable: " + ex.Message;
        }
    }

    private static async Task<IConnectionMultiplexer> ConnectAsync(string endpoint, WorkerLog log)
    {
        var options = ConfigurationOptions.Parse(endpoint);
        options.LoggerFactory = log;
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = 2000;
        options.SyncTimeout = 2000;
        options.AsyncTimeout = 2000;
        return await ConnectionMultiplexer.ConnectAsync(options);
    }
}

/// <summary>The worker's command line (the coordinator writes it; see <see cref="Search.WorkerProcess"/>).</summary>
internal sealed record WorkerArguments(
    string RunDirectory, int WitnessPort, string Redis, string[] Redlock, string MySql, string Postgres, string[] Strategies, int Clients, int Keys, int Seed, TimeSpan MaxRun)
{
    public static WorkerArguments Parse(IReadOnlyDictionary<string, string> options)
        => new(
            options["run-dir"],
            int.Parse(options["witness"], CultureInfo.InvariantCulture),
            options["redis"],
            options["redlock"].Split(',', StringSplitOptions.RemoveEmptyEntries),
            options["mysql"],
            options.GetValueOrDefault("postgres", string.Empty),
            options["strategies"].Split(','),
            int.Parse(options["clients"], CultureInfo.InvariantCulture),
            int.Parse(options["keys"], CultureInfo.InvariantCulture),
            int.Parse(options["seed"], CultureInfo.InvariantCulture),
            TimeSpan.FromSeconds(int.Parse(options["max-seconds"], CultureInfo.InvariantCulture)));
}
