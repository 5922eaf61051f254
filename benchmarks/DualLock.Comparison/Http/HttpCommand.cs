using System.Diagnostics;
using MySqlConnector;

namespace DualLock.Comparison.Http;

/// <summary>
/// The HTTP side by side (benchmarks/http.sh): one instance per sample strategy and per minimal
/// endpoint mode, each on a fresh database, driven by wrk over many users and one hot user; req/s,
/// latency, CPU per request, the ratios and an oracle over the stored sums.
/// Exit codes: 0 fine, 1 non-2xx answers, socket errors or lost updates where a lock should prevent them, 2 usage.
/// </summary>
internal static class HttpCommand
{
    public static readonly string[] Scenarios = ["spread", "hot"];

    public static async Task<int> RunAsync(string[] args, string root)
    {
        HttpOptions options;
        try
        {
            options = HttpOptions.Parse(args);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException)
        {
            Console.Error.WriteLine(ex.Message);
            return 2;
        }

        var mySql = Environment.GetEnvironmentVariable("ConnectionStrings__MySql");
        var redis = Environment.GetEnvironmentVariable("ConnectionStrings__Redis");
        var sampleDll = Path.Combine(root, "artifacts", "build", "bin", "UserPointApi", "release", "UserPointApi.dll");
        var minimalDll = Path.Combine(root, "artifacts", "build", "bin", "MinimalPointApi", "release", "MinimalPointApi.dll");
        var script = Path.Combine(root, "benchmarks", "http", "charge.lua");
        if (string.IsNullOrEmpty(mySql) || string.IsNullOrEmpty(redis) || !File.Exists(sampleDll) || !File.Exists(minimalDll))
        {
            Console.Error.WriteLine("Needs ConnectionStrings__MySql/__Redis and the built sample and MinimalPointApi (benchmarks/http.sh does both).");
            return 2;
        }

        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };

        var environment = $"{Environment.ProcessorCount} cores, load average at start {File.ReadAllText("/proc/loadavg").Split(' ')[0]}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC";
        Console.WriteLine($"HTTP side by side: wrk -t1 -c{options.Connections} -d{options.Duration.TotalSeconds}s after a {options.WarmUp.TotalSeconds}s warm-up; {environment}");
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 64 };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
        var results = new List<HttpResult>();
        var checks = new List<HttpTargetCheck>();
        var counters = new List<CounterFigure>();
        var output = Path.IsPathRooted(options.OutputDirectory) ? options.OutputDirectory : Path.Combine(root, options.OutputDirectory);
        var tool = DualLockCounters.ToolPath(root);
        if (options.Counters && !File.Exists(tool))
        {
            Console.Error.WriteLine($"--counters needs {tool} (benchmarks/http.sh --counters installs it).");
            return 2;
        }

        Directory.CreateDirectory(output);
        var usersFile = Path.Combine(Path.GetTempPath(), $"duallock-http-users-{Environment.ProcessId}.txt");
        try
        {
            for (var run = 1; run <= options.Runs; run++)
            {
                foreach (var target in HttpTarget.For(options))
                {
                    var sample = new Measured(results, counters, options.Counters && !target.Minimal ? tool : null, output);
                    checks.Add(await MeasureAsync(target, run, options, mySql, redis, target.Minimal ? minimalDll : sampleDll, script, usersFile, http, sample, cancel.Token));
                }
            }
        }
        finally
        {
            File.Delete(usersFile);
        }

        var medians = HttpReport.Medians(results);
        HttpReport.Print(medians);
        await HttpReport.WriteAsync(output, options, environment, results, medians, checks);
        Console.WriteLine($"Wrote {Path.Combine(output, "http.md")} and http.json");
        if (options.Counters)
        {
            await HttpReport.WriteCountersAsync(output, environment, counters);
            Console.WriteLine($"Wrote {Path.Combine(output, "counters.md")} (dotnet-counters files: counters-*.csv)");
        }

        var failed = results.Any(r => r.Non2xx > 0 || r.SocketErrors > 0) || checks.Any(c => (c.Lost && !c.MayLoseUpdates) || c.Phantom);
        return failed ? 1 : 0;
    }

    private static async Task<HttpTargetCheck> MeasureAsync(
        HttpTarget target, int run, HttpOptions options, string mySql, string redis, string dll, string script, string usersFile, HttpClient http, Measured sample, CancellationToken cancellationToken)
    {
        await using var database = await FreshDatabase.CreateAsync(mySql, target.Name.Replace('-', '_'), cancellationToken);
        var env = target.Minimal
            ? new Dictionary<string, string> { ["ConnectionStrings__MySql"] = database.ConnectionString, ["Minimal__Mode"] = target.Setting, ["ASPNETCORE_ENVIRONMENT"] = "Production" }
            : new Dictionary<string, string>
            {
                ["ConnectionStrings__MySql"] = database.ConnectionString,
                ["ConnectionStrings__Redis"] = redis,
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
                ["Logging__LogLevel__Default"] = "Warning",
            };
        if (!target.Minimal)
        {
            SampleStrategy.AddSettings(env, target.Setting);
        }

        await using var instance = await ApiInstances.StartAsync(dll, options.Instances, env, http, cancellationToken);
        var client = new PointApiClient(http, instance.Urls);
        var users = new string[options.Users + 1];
        await Parallel.ForAsync(0, users.Length, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (i, ct) => users[i] = await client.CreateUserAsync(ct));
        await File.WriteAllLinesAsync(usersFile, users, cancellationToken);

        var statementsBefore = options.ServerStats ? await ServerStats.StatementsAsync(mySql, database.Name, cancellationToken) : null;
        var redisBefore = options.ServerStats ? await ServerStats.RedisCommandsAsync(redis, cancellationToken) : null;
        long acknowledged = 0, wrkRuns = 0;
        var pids = instance.ProcessIds;
        foreach (var scenario in Scenarios)
        {
            if (options.WarmUp > TimeSpan.Zero)
            {
                var warm = await Wrk.RunAllAsync(instance.Urls, script, usersFile, scenario, options.WarmUp, options.Connections, cancellationToken);
                acknowledged += warm.Acknowledged;
                wrkRuns++;
            }

            var csv = Path.Combine(sample.Output, $"counters-{target.Name}-{scenario}-run{run}.csv");
            using var collector = sample.CountersTool is null ? null : DualLockCounters.Start(sample.CountersTool, pids[0], options.Duration, csv);
            var cpuBefore = pids.Sum(ProcessCpu.Seconds);
            var w = await Wrk.RunAllAsync(instance.Urls, script, usersFile, scenario, options.Duration, options.Connections, cancellationToken);
            var serverCpu = pids.Sum(ProcessCpu.Seconds) - cpuBefore;
            if (collector is not null)
            {
                sample.Counters.AddRange(await DualLockCounters.FinishAsync(collector, options.Duration, csv, target.Name, scenario, run));
            }

            acknowledged += w.Acknowledged;
            wrkRuns++;
            var seconds = w.DurationUs / 1e6;
            var result = new HttpResult
            {
                Target = target.Name,
                Scenario = scenario,
                Run = run,
                RequestsPerSecond = w.Requests / seconds,
                P50Ms = w.P50Us / 1000.0,
                P90Ms = w.P90Us / 1000.0,
                P99Ms = w.P99Us / 1000.0,
                MaxMs = w.MaxUs / 1000.0,
                Requests = w.Requests,
                Non2xx = w.Status,
                SocketErrors = w.SocketErrors,
                ServerCpuUsPerRequest = w.Requests == 0 ? 0 : serverCpu * 1e6 / w.Requests,
                ServerCores = serverCpu / seconds,
                WrkCores = w.CpuSeconds / seconds,
            };
            sample.Results.Add(result);
            Console.WriteLine(HttpReport.Line(result));
        }

        var statementsAfter = options.ServerStats ? await ServerStats.StatementsAsync(mySql, database.Name, cancellationToken) : null;
        var redisAfter = options.ServerStats ? await ServerStats.RedisCommandsAsync(redis, cancellationToken) : null;
        long stored;
        await using (var connection = new MySqlConnection(database.ConnectionString))
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = new MySqlCommand("SELECT CAST(COALESCE(SUM(amount), 0) AS SIGNED) FROM user_points", connection);
            stored = Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
        }

        var check = new HttpTargetCheck
        {
            Target = target.Name,
            Run = run,
            Acknowledged = acknowledged,
            InFlightAtStops = wrkRuns * options.Connections,
            Stored = stored,
            MayLoseUpdates = target.MayLoseUpdates,
            StatementsPerCharge = statementsBefore is null ? null : ServerStats.PerOperation(statementsBefore, statementsAfter!, acknowledged),
            RedisCommandsPerCharge = redisBefore is null ? null : ServerStats.PerOperation(redisBefore, redisAfter!, acknowledged),
        };
        Console.WriteLine($"  {target.Name}: stored {stored} vs acknowledged {acknowledged}: {check.Verdict}");
        return check;
    }

    /// <summary>Where one target's measurements go: the results, the counter figures, and the dotnet-counters tool when collecting.</summary>
    private sealed record Measured(List<HttpResult> Results, List<CounterFigure> Counters, string? CountersTool, string Output);
}
