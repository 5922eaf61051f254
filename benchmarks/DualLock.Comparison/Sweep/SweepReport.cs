using System.Globalization;
using System.Text;
using System.Text.Json;

namespace DualLock.Comparison.Sweep;

/// <summary>The sweep's console rows (under 120 columns), sweep.md and sweep.json.</summary>
internal static class SweepReport
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public const string Header = "strategy     scenario  offered/s   ack/s   p95 ms   p99 ms  errors  dropped  lost  gen cores  api cores";

    public static string Row(SweepStep s)
        => string.Create(Invariant, $"{s.Strategy,-12} {s.Scenario,-8} {s.OfferedPerSecond,9:0} {s.AcknowledgedPerSecond,7:0} {s.P95Ms,8:0.0} {s.P99Ms,8:0.0} {s.Errors,7} {s.Dropped,8} {s.LostUsers,5} {s.GeneratorCores,10:0.00} {s.ApiCores(),10:0.00}");

    public static void PrintCapacity(IReadOnlyList<SweepStep> steps)
    {
        Console.WriteLine($"Capacity (highest offered load/s with p95 <= {SweepCommand.P95LimitMs} ms, no error, nothing dropped):");
        foreach (var line in CapacityLines(steps))
        {
            Console.WriteLine("  " + line);
        }
    }

    public static async Task WriteAsync(string directory, ComparisonOptions options, string environment, IReadOnlyList<SweepStep> steps)
    {
        Directory.CreateDirectory(directory);
        var capacity = steps.GroupBy(s => (s.Strategy, s.Scenario)).Select(g => new { g.Key.Strategy, g.Key.Scenario, capacity = SweepCommand.Capacity(g) });
        await File.WriteAllTextAsync(Path.Combine(directory, "sweep.json"), JsonSerializer.Serialize(new { environment, options = Describe(options), capacity, steps }, JsonOptions));

        var md = new StringBuilder();
        md.AppendLine("# Capacity sweep").AppendLine();
        md.AppendLine(Invariant, $"`{Describe(options)}`. {environment}").AppendLine();
        md.AppendLine(Invariant, $"Offered load (open model, arrivals/s over all {options.Instances} instances) in steps of {options.SweepStep.TotalSeconds} s each, fresh users and an oracle per step, after an unrecorded {SweepCommand.WarmUp.TotalSeconds} s warm-up at {SweepCommand.Rates[0]}/s per strategy; ");
        md.AppendLine("spread = 20 users, hot = one user. Capacity: the highest offered load with p95 <= 50 ms, no error and nothing dropped. ");
        md.AppendLine("gen cores: the load generator's own CPU (this process, 1.0 = one core); api cores: the API instances' CPU. On 2 cores a generator near 1.0 is its own ceiling.").AppendLine();
        md.AppendLine("Capacity:").AppendLine();
        foreach (var line in CapacityLines(steps))
        {
            md.AppendLine("- " + line);
        }

        md.AppendLine().AppendLine("| strategy | scenario | offered/s | acknowledged/s | p95 ms | p99 ms | errors | dropped | users with lost updates | gen cores | api cores |");
        md.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var s in steps)
        {
            md.AppendLine(Invariant, $"| {s.Strategy} | {s.Scenario} | {s.OfferedPerSecond:0} | {s.AcknowledgedPerSecond:0} | {s.P95Ms:0.0} | {s.P99Ms:0.0} | {s.Errors} | {s.Dropped} | {s.LostUsers} | {s.GeneratorCores:0.00} | {s.ServerCores:0.00} |");
        }

        md.AppendLine().AppendLine("![acknowledged/s and p95 against offered load](sweep.png)");
        await File.WriteAllTextAsync(Path.Combine(directory, "sweep.md"), md.ToString());
    }

    private static IEnumerable<string> CapacityLines(IReadOnlyList<SweepStep> steps)
        => steps.GroupBy(s => s.Strategy).Select(g => string.Create(
            Invariant,
            $"{g.Key,-12} spread {SweepCommand.Capacity(g.Where(s => s.Scenario == "spread")),5:0}/s   hot {SweepCommand.Capacity(g.Where(s => s.Scenario == "hot")),5:0}/s{(g.Any(s => s.LostUsers > 0) ? "   (lost updates)" : "")}"));

    private static double ApiCores(this SweepStep s) => s.ServerCores;

    private static string Describe(ComparisonOptions o)
        => string.Create(Invariant, $"./run.sh --sweep --strategies {string.Join(',', o.Strategies)} --sweep-step {o.SweepStep.TotalSeconds}s --instances {o.Instances}");
}
