using System.Globalization;
using System.Text;
using System.Text.Json;

namespace DualLock.Comparison.Http;

/// <summary>The console table, http.md and http.json of the HTTP side by side.</summary>
internal static class HttpReport
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>(name, numerator, denominator, target): a sample strategy against what it is measured by.</summary>
    public static IEnumerable<(string Name, string Of, string Over, double Target)> Ratios()
    {
        foreach (var (strategy, minimal) in HttpTarget.Pairs)
        {
            yield return ($"{strategy} / {minimal}", strategy, minimal, 0.7);
        }

        yield return ("dual / pessimistic", "dual", "pessimistic", 0.9);
        yield return ("distributed / pessimistic", "distributed", "pessimistic", double.NaN);

        // What EF Core costs: each strategy on the sample's EF Core data path over the same strategy on the raw one.
        foreach (var strategy in new[] { "pessimistic", "distributed", "dual" })
        {
            yield return ($"{strategy}-ef / {strategy}", strategy + SampleStrategy.EfSuffix, strategy, double.NaN);
        }
    }

    public static List<HttpResult> Medians(IEnumerable<HttpResult> results)
        => results.GroupBy(r => (r.Target, r.Scenario)).Select(g =>
        {
            double M(Func<HttpResult, double> f)
            {
                var sorted = g.Select(f).Order().ToArray();
                return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
            }

            return g.First() with
            {
                Run = 0,
                RequestsPerSecond = M(r => r.RequestsPerSecond),
                P50Ms = M(r => r.P50Ms),
                P90Ms = M(r => r.P90Ms),
                P99Ms = M(r => r.P99Ms),
                MaxMs = M(r => r.MaxMs),
                Requests = (long)M(r => r.Requests),
                Non2xx = g.Sum(r => r.Non2xx),
                SocketErrors = g.Sum(r => r.SocketErrors),
                ServerCpuUsPerRequest = M(r => r.ServerCpuUsPerRequest),
                ServerCores = M(r => r.ServerCores),
                WrkCores = M(r => r.WrkCores),
            };
        }).ToList();

    public static string Line(HttpResult r)
        => string.Create(Invariant, $"  {r.Target,-15} {r.Scenario,-6} {r.RequestsPerSecond,7:0} req/s  p50 {r.P50Ms,6:0.00}  p99 {r.P99Ms,7:0.00} ms  {r.ServerCpuUsPerRequest,5:0} us CPU/req  wrk {r.WrkCores,4:P0}  non-2xx {r.Non2xx}  errors {r.SocketErrors}");

    public static void Print(IReadOnlyList<HttpResult> medians)
    {
        Console.WriteLine();
        Console.WriteLine("target          scenario   req/s    p50 ms    p99 ms  CPU us/req  server cores  wrk cores  non-2xx");
        foreach (var r in medians)
        {
            Console.WriteLine(string.Create(Invariant, $"{r.Target,-15} {r.Scenario,-8} {r.RequestsPerSecond,7:0} {r.P50Ms,9:0.00} {r.P99Ms,9:0.00} {r.ServerCpuUsPerRequest,11:0} {r.ServerCores,13:0.00} {r.WrkCores,10:0.00} {r.Non2xx,8}"));
        }

        Console.WriteLine();
        foreach (var line in RatioLines(medians))
        {
            Console.WriteLine(line);
        }
    }

    public static async Task WriteAsync(string directory, HttpOptions options, string environment, IReadOnlyList<HttpResult> runs, IReadOnlyList<HttpResult> medians, IReadOnlyList<HttpTargetCheck> checks)
    {
        Directory.CreateDirectory(directory);
        var ratios = Ratios().Select(r => new { r.Name, r.Target, spread = Ratio(medians, r.Of, r.Over, "spread"), hot = Ratio(medians, r.Of, r.Over, "hot") }).Where(r => !double.IsNaN(r.spread));
        var command = Describe(options);
        await File.WriteAllTextAsync(
            Path.Combine(directory, "http.json"),
            JsonSerializer.Serialize(new { command, environment, medians, ratios, checks, runs }, JsonOptions));

        var md = new StringBuilder();
        md.AppendLine("# HTTP side by side: the sample against a hand-written minimal endpoint").AppendLine();
        md.AppendLine(Invariant, $"`{command}`; {environment}. {(options.Instances == 1 ? "One instance" : $"{options.Instances} instances")} per target on a fresh database; wrk -t1 -c{options.Connections} {(options.Instances == 1 ? "" : $"(split over one wrk per instance; latency percentiles are the highest of the instances', req/s their sum) ")}");
        md.AppendLine(Invariant, $"for {options.Duration.TotalSeconds} s after an unrecorded {options.WarmUp.TotalSeconds} s warm-up, POST charge {{\"amount\":1}}, over {options.Users} users (spread) ");
        md.AppendLine(Invariant, $"and on one user (hot). {(options.Runs > 1 ? $"Medians of {options.Runs} runs." : "One run.")} The machine is shared and loaded: compare ratios within a run, not absolute figures.").AppendLine();
        md.AppendLine("| target | scenario | req/s | p50 ms | p99 ms | max ms | server CPU us/req | server cores | wrk cores | non-2xx | socket errors |");
        md.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in medians)
        {
            md.AppendLine(Invariant, $"| {r.Target} | {r.Scenario} | {r.RequestsPerSecond:0} | {r.P50Ms:0.00} | {r.P99Ms:0.00} | {r.MaxMs:0.0} | {r.ServerCpuUsPerRequest:0} | {r.ServerCores:0.00} | {r.WrkCores:0.00} | {r.Non2xx} | {r.SocketErrors} |");
        }

        md.AppendLine().AppendLine("Ratios of req/s (target in brackets):").AppendLine();
        foreach (var line in RatioLines(medians))
        {
            md.AppendLine("- " + line);
        }

        md.AppendLine().AppendLine("Stored sums against acknowledged charges (every charge is 1 point):").AppendLine();
        foreach (var c in checks)
        {
            md.AppendLine(Invariant, $"- {c.Target} (run {c.Run}): stored {c.Stored}, acknowledged {c.Acknowledged}: {c.Verdict}");
        }

        foreach (var c in checks.Where(c => c.StatementsPerCharge is not null && c.Run == 1))
        {
            md.AppendLine().AppendLine(Invariant, $"Statements per acknowledged charge, {c.Target} (performance_schema, private server):").AppendLine();
            foreach (var (text, count) in c.StatementsPerCharge!)
            {
                md.AppendLine(Invariant, $"- {count:0.00} x `{text}`");
            }

            if (c.RedisCommandsPerCharge is { Count: > 0 } redis)
            {
                md.AppendLine(Invariant, $"- Redis: {string.Join(", ", redis.Select(p => $"{p.Value:0.00} x {p.Key}"))}");
            }
        }

        await File.WriteAllTextAsync(Path.Combine(directory, "http.md"), md.ToString());
    }

    /// <summary>counters.md: per target, scenario and run, each DualLock instrument's p50 and p95 (medians over the window's seconds).</summary>
    public static async Task WriteCountersAsync(string directory, string environment, IReadOnlyList<CounterFigure> figures)
    {
        var md = new StringBuilder();
        md.AppendLine("# The DualLock meter during the HTTP side by side (`--counters`)");
        md.AppendLine();
        md.AppendLine(Invariant, $"{environment}. dotnet-counters on the first instance, one sample per second over the measured window; each figure is the median over those seconds of that second's p50 or p95, in ms. Collecting adds a listener to the instance: compare these rows with each other, not the req/s of this run with a run without `--counters`.");
        md.AppendLine();
        md.AppendLine("| target | scenario | run | instrument and tags | p50 ms | p95 ms | seconds |");
        md.AppendLine("|---|---|---:|---|---:|---:|---:|");
        foreach (var f in figures)
        {
            md.AppendLine(Invariant, $"| {f.Target} | {f.Scenario} | {f.Run} | `{f.Instrument}` | {f.P50Ms:0.000} | {f.P95Ms:0.000} | {f.Samples} |");
        }

        if (figures.Count == 0)
        {
            md.AppendLine("| (no DualLock histogram was reported: a target without a lock, or the collection missed the window) | | | | | | |");
        }

        await File.WriteAllTextAsync(Path.Combine(directory, "counters.md"), md.ToString());
    }

    private static IEnumerable<string> RatioLines(IReadOnlyList<HttpResult> medians)
    {
        foreach (var (name, of, over, target) in Ratios())
        {
            var spread = Ratio(medians, of, over, "spread");
            var hot = Ratio(medians, of, over, "hot");
            if (double.IsNaN(spread) && double.IsNaN(hot))
            {
                continue;
            }

            var goal = double.IsNaN(target) ? "" : string.Create(Invariant, $" (>= {target:0.0}x: {(spread >= target && hot >= target ? "met" : "MISSED")})");
            yield return string.Create(Invariant, $"{name}: spread {spread:0.00}x, hot {hot:0.00}x{goal}");
        }
    }

    private static double Ratio(IReadOnlyList<HttpResult> medians, string of, string over, string scenario)
    {
        var a = medians.FirstOrDefault(r => r.Target == of && r.Scenario == scenario);
        var b = medians.FirstOrDefault(r => r.Target == over && r.Scenario == scenario);
        return a is null || b is null || b.RequestsPerSecond == 0 ? double.NaN : a.RequestsPerSecond / b.RequestsPerSecond;
    }

    private static string Describe(HttpOptions o)
        => string.Create(Invariant, $"benchmarks/http.sh --strategies {string.Join(',', o.Strategies)} --duration {o.Duration.TotalSeconds}s --warmup {o.WarmUp.TotalSeconds}s --connections {o.Connections} --users {o.Users} --runs {o.Runs}{(o.Instances == 1 ? "" : $" --instances {o.Instances}")}{(o.ServerStats ? " --server-stats" : "")}{(o.Counters ? " --counters" : "")}");
}
