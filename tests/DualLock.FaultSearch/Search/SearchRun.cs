using System.Globalization;
using System.Net;
using System.Text.Json;
using DualLock.FaultSearch.Check;
using DualLock.FaultSearch.Faults;
using DualLock.FaultSearch.Proxy;
using DualLock.FaultSearch.Witness;
using DualLock.FaultSearch.Workload;
using StackExchange.Redis;

namespace DualLock.FaultSearch.Search;

/// <summary>One seed: fresh state, the proxies and the witness, two workers, the schedule, the stop, the check.</summary>
internal sealed class SearchRun(SearchOptions options, SearchEnvironment environment, int seed)
{
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Calm = TimeSpan.FromSeconds(1);

    public string Directory { get; } = Path.Combine(options.Output, "seed-" + seed.ToString(CultureInfo.InvariantCulture));

    private bool UsesPostgres => options.Strategies.Any(s => s.Postgres);

    public async Task<IReadOnlyList<Finding>> RunAsync()
    {
        if (UsesPostgres && environment.Postgres.Length == 0)
        {
            throw new InvalidOperationException(
                $"The postgres-* strategies need ConnectionStrings__Postgres (benchmarks/fault-search.sh starts PostgreSQL); or pass --strategies without them.");
        }

        System.IO.Directory.CreateDirectory(Directory);
        foreach (var old in System.IO.Directory.GetFiles(Directory))
        {
            File.Delete(old);
        }

        await using var log = new StreamWriter(Path.Combine(Directory, "coordinator.log")) { AutoFlush = true };
        var logGate = new Lock();
        void Log(string line)
        {
            lock (logGate)
            {
                log.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {line}");
            }
        }

        var schedule = Schedule.Create(seed, options.Length, options.Spacing, options.Strategies, options.Keys, options.MySqlRestart);
        await File.WriteAllLinesAsync(Path.Combine(Directory, "schedule.txt"), schedule.Select(f => f.ToString()));
        await ResetStateAsync();

        var rules = new ProxyRules(seed);
        await using var witness = new WitnessServer();
        witness.Start();
        var proxies = new List<RespProxy> { new(environment.RedisEndpoint, rules, Log) };
        proxies.AddRange(environment.RedlockEndpoints.Select(e => new RespProxy(e, rules, Log)));
        proxies.ForEach(p => p.Start());
        try
        {
            var arguments = new List<string>
            {
                "--run-dir", Directory, "--witness", witness.Port.ToString(CultureInfo.InvariantCulture),
                "--redis", proxies[0].Endpoint, "--redlock", string.Join(',', proxies.Skip(1).Select(p => p.Endpoint)),
                "--mysql", environment.MySql, "--postgres", environment.Postgres, "--strategies", string.Join(',', options.Strategies.Select(s => s.Name)),
                "--clients", options.Clients.ToString(CultureInfo.InvariantCulture), "--keys", options.Keys.ToString(CultureInfo.InvariantCulture),
                "--seed", seed.ToString(CultureInfo.InvariantCulture),
                "--max-seconds", ((int)(options.Length.TotalSeconds + 120)).ToString(CultureInfo.InvariantCulture),
            };
            using var first = WorkerProcess.Start(arguments, Directory, 1);
            using var second = WorkerProcess.Start(arguments, Directory, 2);
            Log($"workers {first.Pid} {second.Pid}");
            await Task.Delay(WarmUp);

            var runner = new FaultRunner(rules, witness, environment.Redis, environment.Redlock, environment.MySql, environment.Postgres, options.Repository, Log);
            using (var bound = new CancellationTokenSource(options.Length + TimeSpan.FromSeconds(120)))
            {
                await runner.RunAsync(schedule, bound.Token);
                await Task.Delay(options.Length - TimeSpan.FromMilliseconds(schedule.Count == 0 ? 0 : schedule[^1].At.TotalMilliseconds), CancellationToken.None);
            }

            rules.Clear();
            Log("faults stopped");
            await Task.Delay(Calm);
            await File.WriteAllTextAsync(Path.Combine(Directory, "stop"), "stop");

            var findings = new FindingSet();
            foreach (var worker in new[] { first, second })
            {
                // Every call is bounded by its wait and release bounds, then the probe takes a lease and a few seconds.
                if (!await worker.WaitAsync(TimeSpan.FromSeconds(60)))
                {
                    findings.Add(Finding.WorkerExit, "*", $"worker {worker.Pid} did not finish within 60 s of the stop (killed by its pid)");
                    worker.Kill();
                }
                else if (worker.ExitCode != 0)
                {
                    findings.Add(Finding.WorkerExit, "*", $"worker {worker.Pid} exited {worker.ExitCode} (see worker logs in {Directory})");
                }
            }

            var (calls, crowds) = witness.Result();
            var evidence = new RunEvidence(ReadLines(CallRecordType), ReadProbes(), await LedgerSnapshot.ReadAsync(environment.MySql, UsesPostgres ? environment.Postgres : null), calls, crowds);
            Log($"calls {evidence.Calls.Count}, ledger rows {evidence.Ledger.Rows.Count}, crowds {crowds.Count}");
            await File.WriteAllLinesAsync(Path.Combine(Directory, "outcomes.txt"), evidence.Calls
                .GroupBy(c => $"{c.Strategy} {c.Outcome} {c.Error}").OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key}: {g.Count()}"));
            return [.. findings.ToList(), .. Checker.Check(evidence, options.Strategies)];
        }
        finally
        {
            foreach (var proxy in proxies)
            {
                await proxy.DisposeAsync();
            }
        }
    }

    private const string CallRecordType = "history-";

    private List<CallRecord> ReadLines(string prefix)
        => [.. System.IO.Directory.GetFiles(Directory, prefix + "*.jsonl").SelectMany(File.ReadLines)
            .Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize(l, HistoryJson.Default.CallRecord)!)];

    private List<ProbeRecord> ReadProbes()
        => [.. System.IO.Directory.GetFiles(Directory, "probe-*.jsonl").SelectMany(File.ReadLines)
            .Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize(l, HistoryJson.Default.ProbeRecord)!)];

    private async Task ResetStateAsync()
    {
        // The harness's own servers only (benchmarks/fault-search.sh started them): a clean slate per seed.
        foreach (var connection in environment.Redlock.Append(environment.Redis))
        {
            await connection.GetServers()[0].FlushDatabaseAsync();
        }

        // Each key's counter and row live where its strategy writes its ledger: the checker merges the two ledgers.
        IEnumerable<string> Keys(bool postgres) => options.Strategies.Where(s => s.Postgres == postgres)
            .SelectMany(s => Enumerable.Range(0, options.Keys).Select(k => StrategySpec.KeyName(s.Key(k))));
        await Ledger.ResetAsync(environment.MySql, Keys(postgres: false));
        if (UsesPostgres)
        {
            await Ledger.ResetPostgresAsync(environment.Postgres, Keys(postgres: true));
        }
    }
}

/// <summary>The harness's servers, from the environment scripts/services.sh env prints, with admin side connections.</summary>
internal sealed class SearchEnvironment : IAsyncDisposable
{
    private SearchEnvironment(string mySql, string postgres, IPEndPoint redisEndpoint, IPEndPoint[] redlockEndpoints, IConnectionMultiplexer redis, IConnectionMultiplexer[] redlock)
    {
        MySql = mySql;
        Postgres = postgres;
        RedisEndpoint = redisEndpoint;
        RedlockEndpoints = redlockEndpoints;
        Redis = redis;
        Redlock = redlock;
    }

    public string MySql { get; }

    /// <summary>Gets the PostgreSQL connection string, or empty when the environment has none (no postgres-* strategy can run).</summary>
    public string Postgres { get; }

    public IPEndPoint RedisEndpoint { get; }

    public IPEndPoint[] RedlockEndpoints { get; }

    public IConnectionMultiplexer Redis { get; }

    public IConnectionMultiplexer[] Redlock { get; }

    public static async Task<SearchEnvironment> ConnectAsync()
    {
        var mySql = Require("ConnectionStrings__MySql");
        var redisPort = int.Parse(Require("DUALLOCK_REDIS_PORT"), CultureInfo.InvariantCulture);
        var redlockPorts = Require("DUALLOCK_REDLOCK_PORTS").Split(',').Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        var redis = await ConnectAsync(redisPort);
        var redlock = new IConnectionMultiplexer[redlockPorts.Length];
        for (var i = 0; i < redlockPorts.Length; i++)
        {
            redlock[i] = await ConnectAsync(redlockPorts[i]);
        }

        var postgres = Environment.GetEnvironmentVariable("ConnectionStrings__Postgres") ?? string.Empty;
        return new SearchEnvironment(mySql, postgres, new IPEndPoint(IPAddress.Loopback, redisPort), [.. redlockPorts.Select(p => new IPEndPoint(IPAddress.Loopback, p))], redis, redlock);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in Redlock.Append(Redis))
        {
            await connection.DisposeAsync();
        }
    }

    private static async Task<IConnectionMultiplexer> ConnectAsync(int port)
        => await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)},allowAdmin=true,abortConnect=false,connectTimeout=2000");

    private static string Require(string variable)
        => Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{variable} is not set: run through benchmarks/fault-search.sh, or eval \"$(scripts/services.sh env)\" with the harness's ports.");
}
