using System.Diagnostics;
using DualLock.Comparison.Http;

namespace DualLock.Comparison.Sweep;

/// <summary>One step of the sweep: a strategy at one offered load in one scenario.</summary>
internal sealed record SweepStep
{
    public required string Strategy { get; init; }

    public required string Scenario { get; init; }

    public double OfferedPerSecond { get; init; }

    public double AcknowledgedPerSecond { get; init; }

    public double P95Ms { get; init; }

    public double P99Ms { get; init; }

    public long Errors { get; init; }

    public long Dropped { get; init; }

    /// <summary>Users the oracle found short (lost updates), over phantom writes and audits that do not add up.</summary>
    public int LostUsers { get; init; }

    /// <summary>The load generator's (this process's) CPU time over the step's wall time: 1.0 = one core.</summary>
    public double GeneratorCores { get; init; }

    /// <summary>The API instances' CPU time over the step's wall time.</summary>
    public double ServerCores { get; init; }

    /// <summary>Gets a value indicating whether the step is within the capacity criteria: p95 at most 50 ms, no error, nothing dropped.</summary>
    public bool WithinCapacity => P95Ms <= SweepCommand.P95LimitMs && Errors == 0 && Dropped == 0;
}

/// <summary>Runs the offered-load steps of one strategy and scenario against running instances.</summary>
internal static class SweepRun
{
    public static async Task<List<SweepStep>> StepsAsync(
        ComparisonOptions options, string strategy, string scenario, PointApiClient client, IReadOnlyList<int> serverPids, CancellationToken cancellationToken)
    {
        var steps = new List<SweepStep>();
        foreach (var rate in SweepCommand.Rates)
        {
            var stepOptions = options with { Hot = scenario == "hot", ConstantRate = rate, Duration = options.SweepStep };
            var load = new LoadRun(stepOptions, client);
            var generator = Process.GetCurrentProcess().TotalProcessorTime;
            var server = serverPids.Sum(ProcessCpu.Seconds);
            var clock = Stopwatch.StartNew();
            var result = await load.RunAsync(strategy, 1, cancellationToken);
            var wall = clock.Elapsed.TotalSeconds;
            var step = new SweepStep
            {
                Strategy = strategy,
                Scenario = scenario,
                OfferedPerSecond = rate,
                AcknowledgedPerSecond = result.ThroughputPerSecond,
                P95Ms = result.P95Ms,
                P99Ms = result.P99Ms,
                Errors = result.Rejected + result.Ambiguous,
                Dropped = result.Dropped,
                LostUsers = result.UsersWithLostUpdates + result.UsersWithPhantomWrites + result.AuditInconsistentUsers,
                GeneratorCores = (Process.GetCurrentProcess().TotalProcessorTime - generator).TotalSeconds / wall,
                ServerCores = (serverPids.Sum(ProcessCpu.Seconds) - server) / wall,
            };
            steps.Add(step);
            Console.WriteLine(SweepReport.Row(step));

            // Past saturation every further step only queues longer. One slow step on a noisy machine is not saturation:
            // stop when the server no longer keeps up (errors, drops, acknowledged well below offered) or two steps in a row miss.
            var saturated = step.Errors > 0 || step.Dropped > 0 || step.AcknowledgedPerSecond < 0.9 * rate;
            if (saturated || (!step.WithinCapacity && steps.Count > 1 && !steps[^2].WithinCapacity))
            {
                break;
            }
        }

        return steps;
    }
}
