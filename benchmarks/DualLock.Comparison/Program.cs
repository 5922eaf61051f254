using System.Diagnostics;
using DualLock.Comparison;
using MySqlConnector;
using Spectre.Console;

// The strategy comparison: for every strategy, fresh schema, N real API instances, the seed's two
// scenarios at once (open model), an oracle over every balance. Exit codes: 0 verdicts as expected,
// 1 a locking strategy lost updates, 3 a negative control showed no loss (the oracle is not proven), 2 usage.
// "chaos" as the first argument runs the chaos suite instead (Chaos/ChaosCommand.cs).
if (args.Length > 0 && args[0] == "chaos")
{
    // The chaos suite (benchmarks/chaos.sh): the same instances, client and oracle, with faults injected.
    return await DualLock.Comparison.Chaos.ChaosCommand.RunAsync(args[1..], FindRepositoryRoot());
}

if (args.Length > 0 && args[0] == "http")
{
    // The HTTP side by side (benchmarks/http.sh): wrk against the sample and a minimal endpoint (Http/HttpCommand.cs).
    return await DualLock.Comparison.Http.HttpCommand.RunAsync(args[1..], FindRepositoryRoot());
}

ComparisonOptions options;
try
{
    options = ComparisonOptions.Parse(args);
}
catch (Exception ex) when (ex is ArgumentException or FormatException)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}

var redis = Environment.GetEnvironmentVariable("ConnectionStrings__Redis");
var databaseVariable = options.Database == FreshDatabase.Postgres ? "ConnectionStrings__Postgres" : "ConnectionStrings__MySql";
var baseConnectionString = Environment.GetEnvironmentVariable(databaseVariable);
if (string.IsNullOrEmpty(baseConnectionString) || string.IsNullOrEmpty(redis))
{
    Console.Error.WriteLine($"{databaseVariable} and ConnectionStrings__Redis must be set: eval \"$(scripts/services.sh env)\" (./run.sh does this).");
    return 2;
}

var root = FindRepositoryRoot();
var apiDll = options.ApiPath ?? Path.Combine(root, "artifacts", "build", "bin", "UserPointApi", "release", "UserPointApi.dll");
if (!File.Exists(apiDll))
{
    Console.Error.WriteLine($"The sample API is not built at {apiDll}; run: dotnet build DualLock.sln -c Release (or pass --api).");
    return 2;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

if (Console.IsOutputRedirected)
{
    // Logs and CI: the console table fits in 120 columns (results.md has every column).
    AnsiConsole.Profile.Width = 120;
}

var environment = options.Database == FreshDatabase.Postgres
    ? await DescribePostgresAsync(baseConnectionString)
    : await DescribeEnvironmentAsync(baseConnectionString);
AnsiConsole.MarkupLine($"[bold]DualLock strategy comparison[/]: {Markup.Escape(Report.Describe(options))}");
AnsiConsole.MarkupLine(Markup.Escape(environment));

using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = options.MaxInFlight + 50, PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(10) };
var output = Path.IsPathRooted(options.OutputDirectory) ? options.OutputDirectory : Path.Combine(root, options.OutputDirectory);
if (options.Sweep)
{
    return await DualLock.Comparison.Sweep.SweepCommand.RunAsync(options, apiDll, baseConnectionString, redis, http, output, environment, cancel.Token);
}

var results = new List<StrategyResult>();
for (var run = 1; run <= options.Runs; run++)
{
    foreach (var strategy in options.Strategies)
    {
        await using var database = await FreshDatabase.CreateAsync(options.Database, baseConnectionString, SampleStrategy.DatabaseName(strategy), cancel.Token);
        var env = new Dictionary<string, string>
        {
            ["ConnectionStrings__Redis"] = redis,
            ["Locking__RaceWindowMs"] = options.RaceWindowMs.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Logging__LogLevel__Default"] = "Warning",
            ["Diagnostics__ServerTiming"] = "true", // the breakdown tells the app's own time from the rest of the round trip
        };
        database.AddSettings(env);
        SampleStrategy.AddSettings(env, strategy);
        await using var instances = await ApiInstances.StartAsync(apiDll, options.Instances, env, http, cancel.Token);
        var load = new LoadRun(options, new PointApiClient(http, instances.Urls));
        var result = await RunWithProgressAsync(load, strategy, run, cancel.Token);
        results.Add(result);
        AnsiConsole.MarkupLine($"  {strategy} run {run}: {result.Acknowledged} acknowledged, p95 {result.P95Ms:0.0} ms, oracle: {Markup.Escape(result.Verdict)}");
    }
}

var medians = Report.Medians(results);
var verdicts = new List<string>();
var exitCode = 0;
foreach (var row in medians)
{
    var negative = ComparisonOptions.NegativeControls.Contains(row.Strategy) && !(row.Strategy == "local" && options.Instances < 2);
    if (negative && !row.LostUpdates)
    {
        verdicts.Add($"{row.Strategy}: negative control showed NO loss: the oracle is not proven by this run (raise --scale, use --hot, or --race-window-ms).");
        exitCode = exitCode == 0 ? 3 : exitCode;
    }
    else if (negative)
    {
        verdicts.Add($"{row.Strategy}: negative control lost updates as expected: the oracle can see a loss.");
    }
    else if (row.LostUpdates)
    {
        verdicts.Add($"{row.Strategy}: LOST UPDATES under a locking strategy: {row.Verdict}.");
        exitCode = 1;
    }
    else
    {
        verdicts.Add($"{row.Strategy}: no lost update; oracle: {row.Verdict}.");
    }
}

Report.PrintTable(medians, (options.Runs > 1 ? $"medians of {options.Runs} runs" : "one run") + (options.WarmUp > TimeSpan.Zero ? $", after a recorded {options.WarmUp.TotalSeconds:0.#} s warm-up" : ", cold: no warm-up"));
foreach (var verdict in verdicts)
{
    AnsiConsole.WriteLine(verdict);
}

await Report.WriteAsync(output, options, results, medians, verdicts, environment);
Chart.Save(Path.Combine(output, $"chart{options.ResultSuffix}.png"), medians);
AnsiConsole.WriteLine($"Wrote {Path.Combine(output, $"results{options.ResultSuffix}.json")}, results{options.ResultSuffix}.md and chart{options.ResultSuffix}.png");
return exitCode;

static async Task<StrategyResult> RunWithProgressAsync(LoadRun load, string strategy, int run, CancellationToken cancellationToken)
{
    var task = load.RunAsync(strategy, run, cancellationToken);
    var clock = Stopwatch.StartNew();
    string Line() => $"{strategy} run {run}: {clock.Elapsed.TotalSeconds,5:0}s / {load.Length.TotalSeconds:0}s  requests {load.Requests}  ok {load.Acknowledged}  errors {load.Errors}  in flight {load.InFlight}";
    if (Console.IsOutputRedirected)
    {
        while (await Task.WhenAny(task, Task.Delay(5000, cancellationToken)) != task)
        {
            Console.WriteLine(Line());
        }

        return await task;
    }

    return await AnsiConsole.Progress()
        .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new ElapsedTimeColumn())
        .StartAsync(async ctx =>
        {
            var bar = ctx.AddTask(Line(), maxValue: load.Length.TotalSeconds);
            while (await Task.WhenAny(task, Task.Delay(250, cancellationToken)) != task)
            {
                bar.Value = Math.Min(clock.Elapsed.TotalSeconds, load.Length.TotalSeconds);
                bar.Description = Markup.Escape(Line());
            }

            bar.Value = bar.MaxValue;
            return await task;
        });
}

static string FindRepositoryRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "DualLock.sln")))
        {
            return dir.FullName;
        }
    }

    return Directory.GetCurrentDirectory();
}

static async Task<string> DescribeEnvironmentAsync(string connectionString)
{
    await using var connection = new MySqlConnection(connectionString);
    await connection.OpenAsync();
    await using var command = new MySqlCommand("SELECT VERSION(), @@innodb_flush_log_at_trx_commit", connection);
    await using var reader = await command.ExecuteReaderAsync();
    await reader.ReadAsync();
    var durable = reader.GetInt32(1) == 1 ? "durable commits (innodb_flush_log_at_trx_commit=1)" : $"NON-durable commits (innodb_flush_log_at_trx_commit={reader.GetInt32(1)})";
    return $"MariaDB {reader.GetString(0)} with {durable}; {Environment.ProcessorCount} cores; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC.";
}

static async Task<string> DescribePostgresAsync(string connectionString)
{
    await using var connection = new Npgsql.NpgsqlConnection(connectionString);
    await connection.OpenAsync();
    await using var command = new Npgsql.NpgsqlCommand("SELECT current_setting('server_version'), current_setting('fsync'), current_setting('synchronous_commit')", connection);
    await using var reader = await command.ExecuteReaderAsync();
    await reader.ReadAsync();
    var durable = reader.GetString(1) == "on" && reader.GetString(2) == "on"
        ? "durable commits (fsync=on, synchronous_commit=on)"
        : $"NON-durable commits (fsync={reader.GetString(1)}, synchronous_commit={reader.GetString(2)})";
    return $"PostgreSQL {reader.GetString(0)} with {durable}; {Environment.ProcessorCount} cores; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC.";
}
