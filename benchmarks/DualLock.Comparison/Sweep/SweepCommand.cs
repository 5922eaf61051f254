using Spectre.Console;

namespace DualLock.Comparison.Sweep;

/// <summary>
/// <c>./run.sh --sweep</c>: per strategy, the spread scenario (20 users) and the hot user at offered loads
/// in steps (<see cref="Rates"/>) up to saturation; capacity = the highest offered load with p95 at most
/// 50 ms, no error and nothing dropped. Each step has fresh users and its own oracle.
/// </summary>
internal static class SweepCommand
{
    public const double P95LimitMs = 50;

    /// <summary>Offered loads, arrivals per second over all instances.</summary>
    public static readonly double[] Rates = [10, 25, 50, 100, 200, 400, 800, 1600];

    public static readonly string[] Scenarios = ["spread", "hot"];

    /// <summary>An unrecorded run at the lowest rate per strategy before its steps.</summary>
    public static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(3);

    public static async Task<int> RunAsync(ComparisonOptions options, string apiDll, string mySql, string redis, HttpClient http, string output, string environment, CancellationToken cancellationToken)
    {
        var steps = new List<SweepStep>();
        options = options with { WarmUp = TimeSpan.Zero }; // the sweep has its own unrecorded warm-up (below)
        Console.WriteLine(SweepReport.Header);
        foreach (var strategy in options.Strategies)
        {
            await using var database = await FreshDatabase.CreateAsync(mySql, strategy, cancellationToken);
            var env = new Dictionary<string, string>
            {
                ["ConnectionStrings__MySql"] = database.ConnectionString,
                ["ConnectionStrings__Redis"] = redis,
                ["Locking__Strategy"] = strategy,
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
                ["Logging__LogLevel__Default"] = "Warning",
            };
            await using var instances = await ApiInstances.StartAsync(apiDll, options.Instances, env, http, cancellationToken);
            var client = new PointApiClient(http, instances.Urls);

            // Unrecorded: the instances' first requests (JIT, pools) would otherwise land in the first step.
            _ = await new LoadRun(options with { ConstantRate = Rates[0], Duration = WarmUp }, client).RunAsync(strategy, 0, cancellationToken);
            foreach (var scenario in Scenarios)
            {
                steps.AddRange(await SweepRun.StepsAsync(options, strategy, scenario, client, instances.ProcessIds, cancellationToken));
            }
        }

        AnsiConsole.WriteLine();
        SweepReport.PrintCapacity(steps);
        await SweepReport.WriteAsync(output, options, environment, steps);
        SweepChart.Save(Path.Combine(output, "sweep.png"), steps);
        AnsiConsole.WriteLine($"Wrote {Path.Combine(output, "sweep.md")}, sweep.json and sweep.png");

        // A locking strategy that lost updates fails the run, as in the main comparison.
        return steps.Any(s => s.LostUsers > 0 && !ComparisonOptions.NegativeControls.Contains(s.Strategy)) ? 1 : 0;
    }

    /// <summary>The highest offered load within the capacity criteria, 0 when even the first step missed them.</summary>
    public static double Capacity(IEnumerable<SweepStep> steps) => steps.Where(s => s.WithinCapacity).Select(s => s.OfferedPerSecond).DefaultIfEmpty(0).Max();
}
