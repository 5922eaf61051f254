using System.Diagnostics;

namespace DualLock.Comparison.Chaos;

/// <summary>
/// The chaos suite: for every fault and strategy, a fresh database, two real API instances under
/// closed-loop charge/use load, the fault injected after a steady start, then the oracle.
/// Exit codes: 0 nothing lost and the negative control lost; 1 a locking strategy lost or invented
/// points; 3 the negative control lost nothing (the oracle is not proven); 2 usage; 4 the run failed.
/// </summary>
internal static class ChaosCommand
{
    private const long InitialBalance = 1_000_000;

    public static async Task<int> RunAsync(IReadOnlyList<string> args, string root)
    {
        ChaosOptions options;
        try
        {
            options = ChaosOptions.Parse(args);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException)
        {
            Console.Error.WriteLine(ex.Message);
            return 2;
        }

        var mySql = Environment.GetEnvironmentVariable("ConnectionStrings__MySql");
        var redis = Environment.GetEnvironmentVariable("ConnectionStrings__Redis");
        var redlock = Environment.GetEnvironmentVariable("ConnectionStrings__Redlock");
        var postgres = Environment.GetEnvironmentVariable("ConnectionStrings__Postgres");
        var servicesDir = Environment.GetEnvironmentVariable("DUALLOCK_SERVICES_DIR");
        if (string.IsNullOrEmpty(mySql) || string.IsNullOrEmpty(redis) || string.IsNullOrEmpty(redlock))
        {
            Console.Error.WriteLine("ConnectionStrings__MySql, __Redis and __Redlock must be set; run the suite through benchmarks/chaos.sh.");
            return 2;
        }

        if (options.Faults.Contains("postgres-kill") && string.IsNullOrEmpty(postgres))
        {
            Console.Error.WriteLine("postgres-kill needs ConnectionStrings__Postgres (the suite's own PostgreSQL); run the suite through benchmarks/chaos.sh.");
            return 2;
        }

        // The faults kill servers: only ever a set started for this suite, never the shared default one.
        if (string.IsNullOrEmpty(servicesDir) || Path.GetFullPath(servicesDir).TrimEnd('/') == Path.Combine(root, ".services"))
        {
            Console.Error.WriteLine("DUALLOCK_SERVICES_DIR must name the chaos suite's own services folder (not <repo>/.services); run it through benchmarks/chaos.sh.");
            return 2;
        }

        var apiDll = options.ApiPath ?? Path.Combine(root, "artifacts", "build", "bin", "UserPointApi", "release", "UserPointApi.dll");
        if (!File.Exists(apiDll))
        {
            Console.Error.WriteLine($"The sample API is not built at {apiDll}; run: dotnet build DualLock.sln -c Release (or pass --api).");
            return 2;
        }

        var output = Path.IsPathRooted(options.OutputDirectory) ? options.OutputDirectory : Path.Combine(root, options.OutputDirectory);
        Directory.CreateDirectory(output);
        await using var logFile = new StreamWriter(Path.Combine(output, "chaos.log"), append: false) { AutoFlush = true };
        var logLock = new Lock();
        void Log(string line)
        {
            lock (logLock)
            {
                logFile.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {line}");
            }
        }

        var redlockPorts = (Environment.GetEnvironmentVariable("DUALLOCK_REDLOCK_PORTS") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var script = Path.Combine(root, "scripts", "services.sh");
        var clock = Stopwatch.StartNew();
        if (Console.IsOutputRedirected)
        {
            // Logs and CI: keep the tables on wide lines instead of wrapping every cell into a column of letters.
            Spectre.Console.AnsiConsole.Profile.Width = 260;
        }

        Console.WriteLine($"DualLock chaos suite: {options.Describe()}");
        Console.WriteLine($"Servers: its own set in {servicesDir}; API and services output in {Path.Combine(output, "chaos.log")}.");

        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = options.Clients + 50, PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        using var http = new HttpClient(handler) { Timeout = options.ClientTimeout };
        var faults = new List<Fault> { FaultCatalogue.NegativeControl(options) };
        faults.AddRange(options.Faults.Select(f => FaultCatalogue.Get(f, options)));
        var results = new List<ChaosResult>();
        var run = new Runner(options, apiDll, mySql, postgres, redis, redlock, script, redlockPorts, http, Log);

        // One pair of instances per strategy and settings: its faults run one after the other on it,
        // each with its own fresh users (the oracle's unit), so API start-up is paid once per pair.
        var rows = faults.SelectMany(f => f.Strategies.Select(s => (Fault: f, Strategy: s))).ToList();
        var groups = rows.GroupBy(r => (r.Strategy, Settings: string.Join(';', r.Fault.Settings.Select(kv => $"{kv.Key}={kv.Value}"))));
        try
        {
            foreach (var group in groups)
            {
                await using var pair = await run.StartAsync(group.Key.Strategy, group.First().Fault.Settings);
                foreach (var (fault, strategy) in group)
                {
                    var result = await run.RunAsync(pair, fault, strategy);
                    results.Add(result);
                    Console.WriteLine(ChaosReport.OneLine(result));
                }
            }

            results = [.. results.OrderBy(r => rows.FindIndex(x => x.Fault.Name == r.Fault && x.Strategy == r.Strategy))];
        }
#pragma warning disable CA1031 // report what ran, then fail the suite
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Console.Error.WriteLine($"The chaos run failed: {ex}");
            Log($"FAILED: {ex}");
            await ChaosReport.WriteAsync(output, options, results, clock.Elapsed, $"run failed: {ex.Message}");
            return 4;
        }

        var verdict = await ChaosReport.WriteAsync(output, options, results, clock.Elapsed, null);
        ChaosReport.Print(results, verdict);
        Console.WriteLine($"Wrote {Path.Combine(output, "results.json")} and results.md in {clock.Elapsed.TotalSeconds:0} s.");
        return verdict.ExitCode;
    }

    private sealed class Runner(
        ChaosOptions options, string apiDll, string mySql, string? postgres, string redis, string redlock, string script, IReadOnlyList<string> redlockPorts, HttpClient http, Action<string> log)
    {
        public async Task<InstancePair> StartAsync(string strategy, IReadOnlyDictionary<string, string> settings)
        {
            log($"=== starting two instances: {strategy} {string.Join(' ', settings.Select(kv => $"{kv.Key}={kv.Value}"))}");
            var onPostgres = settings.TryGetValue("Database", out var kind) && kind == FreshDatabase.Postgres;
            var database = onPostgres
                ? await FreshDatabase.CreateAsync(FreshDatabase.Postgres, postgres!, strategy, CancellationToken.None)
                : await FreshDatabase.CreateAsync(mySql, strategy, CancellationToken.None);
            var env = new Dictionary<string, string>
            {
                ["ConnectionStrings__Redis"] = redis,
                ["ConnectionStrings__Redlock"] = redlock,
                ["Locking__Strategy"] = strategy,
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
                ["Logging__LogLevel__Default"] = "Warning",
                ["Diagnostics__ServerTiming"] = "true", // the report tells the server's own time from queueing on the machine
            };
            database.AddSettings(env);
            foreach (var (key, value) in settings)
            {
                env[key] = value;
            }

            try
            {
                var instances = await ApiInstances.StartAsync(apiDll, 2, env, http, CancellationToken.None, log);
                var pair = new InstancePair(database, instances, [.. instances.Urls.Select(u => new PointApiClient(http, [u]))]);
                await WarmUpAsync(pair);
                return pair;
            }
            catch
            {
                await database.DisposeAsync();
                throw;
            }
        }

        /// <summary>Unmeasured load on throwaway users, so the first fault's "before" rate is not a cold start (JIT, pools).</summary>
        private async Task WarmUpAsync(InstancePair pair)
        {
            var users = new List<UserTally>();
            for (var i = 0; i < 2; i++)
            {
                var user = new UserTally(await pair.Clients[i % 2].CreateUserAsync(CancellationToken.None));
                user.Record(await pair.Clients[i % 2].ChargeAsync(user.UserId, InitialBalance, CancellationToken.None), InitialBalance);
                users.Add(user);
            }

            var load = new ChaosLoad(pair.Clients, users, options.Clients);
            var running = load.RunAsync();
            await Task.Delay(options.WarmUp);
            load.Stop();
            await running.WaitAsync(options.ClientTimeout + TimeSpan.FromSeconds(30));
        }

        public async Task<ChaosResult> RunAsync(InstancePair pair, Fault fault, string strategy)
        {
            log($"=== {fault.Name} / {strategy}");
            var clients = pair.Clients;
            var users = new List<UserTally>();
            for (var i = 0; i < options.Users; i++)
            {
                var user = new UserTally(await clients[0].CreateUserAsync(CancellationToken.None));
                var initial = await clients[0].ChargeAsync(user.UserId, InitialBalance, CancellationToken.None);
                if (initial.Outcome != WriteOutcome.Acknowledged)
                {
                    throw new InvalidOperationException($"{fault.Name}/{strategy}: the initial charge failed before any fault ({initial.Code}).");
                }

                user.Record(initial, InitialBalance);
                users.Add(user);
            }

            var target = new FaultTarget(script, pair.Instances.ProcessIds, redlockPorts, log);
            var load = new ChaosLoad(clients, users, options.Clients);
            await using var cpu = new CpuSampler(pair.Instances.ProcessIds, load);
            var health = new HealthSampler(http, pair.Instances.Urls[0], load);
            var running = load.RunAsync();
            cpu.Start();
            health.Start();
            var steps = new List<(double At, string Action)>();
            try
            {
                foreach (var step in fault.Steps)
                {
                    await DelayUntilAsync(load, step.At);
                    var began = load.Elapsed.TotalSeconds;
                    await step.Act(target);
                    var done = load.Elapsed.TotalSeconds;

                    // A fault begins when its command is sent (the signal goes out at once; the command then waits
                    // for the process to be gone) and ends when the last command returns (the server answers again).
                    var at = step == fault.Steps[^1] ? done : began;
                    var action = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{step.Action} (command {began:0.00}-{done:0.00}s)");
                    steps.Add((at, action));
                    Console.WriteLine($"    {fault.Name}/{strategy}: {at,5:0.0}s {action}");
                }

                // Observe for the whole time after the fault, however long its last step (a restart) took.
                await DelayUntilAsync(load, steps.Count > 0 ? Max(fault.LoadLength, TimeSpan.FromSeconds(steps[^1].At) + options.After) : fault.LoadLength);
            }
            finally
            {
                if (steps.Count < fault.Steps.Count)
                {
                    log($"{fault.Name}/{strategy}: undoing the fault after a failure");
                    await fault.Undo(target);
                }

                load.Stop();
                await health.DisposeAsync();
                await running.WaitAsync(options.ClientTimeout + TimeSpan.FromSeconds(30));
            }

            var length = load.Elapsed.TotalSeconds;
            var checks = await OracleAsync(clients, users);
            return Measure(fault, strategy, load.Records, steps, length, checks, cpu) with { Health = health.Samples };
        }

        private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

        private static async Task DelayUntilAsync(ChaosLoad load, TimeSpan at)
        {
            var wait = at - load.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }
        }

        private static async Task<List<UserCheck>> OracleAsync(PointApiClient[] clients, List<UserTally> users)
        {
            var checks = new List<UserCheck>();
            foreach (var user in users)
            {
                // The servers are back by now; a slow first answer after a restart is retried, never guessed.
                var deadline = Stopwatch.StartNew();
                while (true)
                {
                    try
                    {
                        var client = clients[checks.Count % clients.Length];
                        var balance = await client.GetBalanceAsync(user.UserId, CancellationToken.None);
                        var audit = await client.AuditAsync(user.UserId, CancellationToken.None);
                        checks.Add(new UserCheck(
                            user.UserId, user.Acknowledged, user.Ambiguous, user.AmbiguousDebit, balance, audit.LedgerSum,
                            Math.Max(0, user.Lowest - balance), Math.Max(0, balance - user.Highest), audit.Consistent && audit.Balance == balance));
                        break;
                    }
                    catch (Exception ex) when (ex is InvalidOperationException or HttpRequestException or TaskCanceledException && deadline.Elapsed < TimeSpan.FromSeconds(30))
                    {
                        await Task.Delay(500);
                    }
                }
            }

            return checks;
        }

        /// <summary>
        /// The requests that explain a difference by their amount alone: invented X is a charge of X
        /// answered 503 that was committed after all, or an acknowledged use of X that is missing; lost X
        /// is an acknowledged charge of X that is missing, or a use of X answered 503 that was committed.
        /// </summary>
        private static string Suspects(IReadOnlyList<RequestRecord> records, int user, UserCheck check)
        {
            bool Explains(RequestRecord r, long difference, int sign)
                => difference != 0
                   && ((r.Outcome == WriteOutcome.Rejected && r.Amount == sign * difference)
                       || (r.Outcome == WriteOutcome.Acknowledged && r.Amount == -sign * difference));
            var matches = records.Where(r => r.User == user && (Explains(r, check.Invented, 1) || Explains(r, check.Lost, -1)));
            return string.Join("; ", matches.Select(r => string.Create(
                System.Globalization.CultureInfo.InvariantCulture,
                $"{(r.Amount > 0 ? "charge" : "use")} {Math.Abs(r.Amount)} sent {r.Start:0.00}s answered {(r.Status == 200 ? "200" : $"{r.Status} {r.Code}")} at {r.End:0.00}s (instance {r.Instance + 1})")));
        }

        private static ChaosResult Measure(Fault fault, string strategy, IReadOnlyList<RequestRecord> records, List<(double At, string Action)> steps, double length, List<UserCheck> checks, CpuSampler cpu)
        {
            var faultStart = steps.Count > 0 ? steps[0].At : length;
            var faultEnd = steps.Count > 0 ? steps[^1].At : length;
            var before = Timeline.RateBefore(records, faultStart);
            var phases = new List<PhaseResult>();
            for (var i = 0; i + 1 < steps.Count; i++)
            {
                phases.Add(Timeline.Phase(records, fault.Steps[i].Phase, steps[i].At, steps[i + 1].At, before));
            }

            var whole = steps.Count > 0 ? Timeline.Phase(records, "fault", faultStart, faultEnd, before) : null;
            checks = [.. checks.Select((c, i) => c with { Suspects = Suspects(records, i, c) })];
            return new ChaosResult
            {
                Fault = fault.Name,
                Strategy = strategy,
                Settings = fault.Settings,
                Steps = steps,
                Timeline = Timeline.PerSecond(records, steps, length),
                Phases = phases,
                Users = checks,
                Requests = records.Count,
                Acknowledged = records.Count(r => r.Status == 200),
                Ambiguous = records.Count(r => r.Outcome == WriteOutcome.Ambiguous),
                AckPerSecondBefore = before,
                AckPerSecondDuringFault = whole?.AckPerSecond,
                P99UnavailableOnceKnownMs = whole?.P99UnavailableOnceKnownMs,
                P99UnavailableOnceKnownServerMs = whole?.P99UnavailableOnceKnownServerMs,
                UnavailableOnceKnownPerSecond = whole is null ? null : whole.UnavailableOnceKnown / Math.Max(0.001, faultEnd - faultStart - Timeline.KnownAfterSeconds),
                CoresOnceKnown = steps.Count > 0 ? cpu.CoresBetween(faultStart + Timeline.KnownAfterSeconds, faultEnd) : null,
                RecoveryMs = steps.Count > 0 ? Timeline.RecoveryMs(records, faultEnd, length, before) : null,
                LeaseLostAfterFault = steps.Count > 0 ? records.Count(r => r.Code == "LOCK_LEASE_LOST" && r.End >= faultEnd) : 0,
                ErrorsByCode = records.Where(r => r.Status != 200).GroupBy(r => r.Code).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count()),
            };
        }
    }

    /// <summary>Two API instances of one strategy on their own fresh database; faults run on it one after the other.</summary>
    private sealed class InstancePair(FreshDatabase database, ApiInstances instances, PointApiClient[] clients) : IAsyncDisposable
    {
        public ApiInstances Instances => instances;

        public PointApiClient[] Clients => clients;

        public async ValueTask DisposeAsync()
        {
            await instances.DisposeAsync();
            await database.DisposeAsync();
        }
    }
}
