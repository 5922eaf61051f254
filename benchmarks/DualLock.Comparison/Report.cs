using System.Globalization;
using System.Text;
using System.Text.Json;
using Spectre.Console;

namespace DualLock.Comparison;

/// <summary>Turns results into the console table, results.json and results.md.</summary>
internal static class Report
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals, // NaN: no sample
    };

    /// <summary>Per strategy: the median of every number over the runs; the oracle's verdict is the worst run's.</summary>
    public static List<StrategyResult> Medians(IEnumerable<StrategyResult> results)
        => results.GroupBy(r => r.Strategy).Select(g =>
        {
            var runs = g.ToList();
            var worst = runs.OrderByDescending(r => r.UsersWithLostUpdates + r.AuditInconsistentUsers + r.UsersWithPhantomWrites).First();
            double M(Func<StrategyResult, double> f) => Median(runs.Select(f));
            return worst with
            {
                Run = 0,
                Requests = (long)M(r => r.Requests),
                Acknowledged = (long)M(r => r.Acknowledged),
                Rejected = (long)M(r => r.Rejected),
                Ambiguous = (long)M(r => r.Ambiguous),
                Dropped = (long)M(r => r.Dropped),
                ThroughputPerSecond = M(r => r.ThroughputPerSecond),
                SuccessRate = M(r => r.SuccessRate),
                P50Ms = M(r => r.P50Ms),
                P95Ms = M(r => r.P95Ms),
                P99Ms = M(r => r.P99Ms),
                MaxMs = M(r => r.MaxMs),
                MeanMs = M(r => r.MeanMs),
                LockTimeouts = (long)M(r => r.LockTimeouts),
                SeedRacyCheckFailures = (long)M(r => r.SeedRacyCheckFailures),
            };
        }).ToList();

    /// <summary>The console table: the columns that fit in 120 characters; results.md has every column.</summary>
    public static void PrintTable(IReadOnlyList<StrategyResult> rows, string title)
    {
        var table = new Table { Title = new TableTitle(title), Border = TableBorder.Simple };
        foreach (var column in ConsoleColumns)
        {
            table.AddColumn(new TableColumn(column) { Alignment = column is "strategy" or "oracle" ? Justify.Left : Justify.Right });
        }

        foreach (var row in rows)
        {
            var oracle = row.LostUpdates
                ? $"[red]LOST: {row.UsersWithLostUpdates + row.UsersWithPhantomWrites} users, {row.LostAmount} pts[/]"
                : $"[green]{(row.Ambiguous > 0 ? $"no loss, {row.Ambiguous} ambiguous" : "exact")}[/]";
            table.AddRow(
                Markup.Escape(row.Strategy), F(row.P50Ms), F(row.P95Ms), F(row.P99Ms), F(row.MaxMs), F(row.ThroughputPerSecond),
                (row.Rejected + row.Ambiguous).ToString(Invariant), row.Dropped.ToString(Invariant), oracle);
        }

        AnsiConsole.Write(table);
    }

    private static readonly string[] ConsoleColumns = ["strategy", "p50 ms", "p95 ms", "p99 ms", "max ms", "ack/s", "errors", "dropped", "oracle"];

    public static async Task WriteAsync(string directory, ComparisonOptions options, IReadOnlyList<StrategyResult> runs, IReadOnlyList<StrategyResult> medians, IReadOnlyList<string> verdicts, string environment)
    {
        Directory.CreateDirectory(directory);
        var json = JsonSerializer.Serialize(
            new { options = Describe(options), environment, medians, runs, verdicts },
            JsonOptions);
        await File.WriteAllTextAsync(Path.Combine(directory, $"results{options.ResultSuffix}.json"), json);

        var md = new StringBuilder();
        md.AppendLine("# Strategy comparison").AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Run: `{Describe(options)}`. {environment}").AppendLine();
        md.AppendLine("Latencies are of the charge request (ms, HdrHistogram); throughput is acknowledged charges per second; ");
        md.AppendLine("the seed's racy check compares a charge's balance with a later GET while others keep charging, so it fails without any lost update. ");
        md.AppendLine("The oracle: per user, final balance within [initial + acknowledged, + ambiguous], and the stored ledger sums to the balance.").AppendLine();
        md.AppendLine("| " + string.Join(" | ", Columns) + " |");
        md.AppendLine("|" + string.Concat(Columns.Select(c => c == "strategy" ? "---|" : "---:|")));
        foreach (var row in medians)
        {
            md.AppendLine("| " + string.Join(" | ", Cells(row)) + " |");
        }

        md.AppendLine().AppendLine(WarmUpCaption(options)).AppendLine();
        LatencyBreakdown.Write(md, runs);

        md.AppendLine().AppendLine("Errors by code (of the worst run per strategy):").AppendLine();
        foreach (var row in medians.Where(r => r.ErrorsByCode.Count > 0))
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"- {row.Strategy}: {string.Join(", ", row.ErrorsByCode.Select(e => $"{e.Key} {e.Value}"))}");
        }

        if (medians.All(r => r.ErrorsByCode.Count == 0))
        {
            md.AppendLine("- none");
        }

        md.AppendLine().AppendLine("Verdicts:").AppendLine();
        foreach (var verdict in verdicts)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"- {verdict}");
        }

        md.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"![latency and throughput per strategy](chart{options.ResultSuffix}.png)");
        await File.WriteAllTextAsync(Path.Combine(directory, $"results{options.ResultSuffix}.md"), md.ToString());
    }

    public static string Describe(ComparisonOptions o)
        => string.Create(Invariant, $"--strategies {string.Join(',', o.Strategies)} --duration {o.Duration.TotalSeconds}s --warmup {o.WarmUp.TotalSeconds}s --scale {o.Scale} --instances {o.Instances} --runs {o.Runs}{(o.Database != FreshDatabase.MySql ? $" --database {o.Database}" : "")}{(o.Hot ? " --hot" : "")}{(o.RaceWindowMs > 0 ? $" --race-window-ms {o.RaceWindowMs}" : "")}");

    /// <summary>Says whether the table's latencies include the instances' cold start.</summary>
    public static string WarmUpCaption(ComparisonOptions o)
        => o.WarmUp > TimeSpan.Zero
            ? string.Create(Invariant, $"Measured after a recorded {o.WarmUp.TotalSeconds} s warm-up (the same scenarios at their starting rates on the same users; the oracle covers its charges); the warm-up's own percentiles are the cold column below.")
            : "No warm-up: the table's latencies include the instances' cold start (their first requests; see the first-5 s column below).";

    private static readonly string[] Columns =
    [
        "strategy", "p95 ms", "mean ms", "median ms", "max ms", "p99 ms", "throughput/s", "seed racy check failures",
        "success rate", "requests", "errors", "lock timeouts", "ambiguous", "dropped", "oracle",
    ];

    private static string[] Cells(StrategyResult r) =>
    [
        r.Strategy, F(r.P95Ms), F(r.MeanMs), F(r.P50Ms), F(r.MaxMs), F(r.P99Ms), F(r.ThroughputPerSecond),
        r.SeedRacyCheckFailures.ToString(Invariant), r.SuccessRate.ToString("P1", Invariant), r.Requests.ToString(Invariant),
        (r.Rejected + r.Ambiguous).ToString(Invariant), r.LockTimeouts.ToString(Invariant), r.Ambiguous.ToString(Invariant),
        r.Dropped.ToString(Invariant), r.Verdict,
    ];

    private static string F(double value) => value.ToString(value >= 100 ? "0" : "0.0", Invariant);

    internal static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
