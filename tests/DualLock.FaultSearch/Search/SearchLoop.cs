using System.Diagnostics;
using DualLock.FaultSearch.Check;

namespace DualLock.FaultSearch.Search;

/// <summary>Runs seed after seed and reports: every finding with its seed and the command that replays it.</summary>
internal static class SearchLoop
{
    public static async Task<int> RunAsync(SearchOptions options)
    {
        await using var environment = await SearchEnvironment.ConnectAsync();
        var started = Stopwatch.GetTimestamp();
        var failed = false;
        var controlCaught = true;
        for (var seed = options.FirstSeed; ; seed++)
        {
            var budget = options.Minutes is { } minutes
                ? Stopwatch.GetElapsedTime(started) < TimeSpan.FromMinutes(minutes)
                : seed < options.FirstSeed + options.Seeds;
            if (!budget)
            {
                break;
            }

            var run = new SearchRun(options, environment, seed);
            Console.WriteLine($"seed {seed}: {options.Length.TotalSeconds:0} s of faults over {string.Join(", ", options.Strategies.Select(s => s.Name))} (schedule: {run.Directory}/schedule.txt)");
            var findings = await run.RunAsync();
            var control = options.Strategies.Where(s => s.Control).ToList();
            foreach (var spec in control)
            {
                if (!findings.Any(f => f.Strategy == spec.Name && f.Invariant == Finding.Exclusion))
                {
                    Console.WriteLine($"  CONTROL NOT CAUGHT: strategy '{spec.Name}' (no lock) showed no exclusion violation: the witness proves nothing this seed");
                    controlCaught = false;
                }
            }

            foreach (var finding in findings.Where(f => !options.Strategies.Any(s => s.Control && s.Name == f.Strategy)))
            {
                var allowed = options.IsAllowed(finding.Code);
                failed |= !allowed;
                Console.WriteLine($"  {(allowed ? "KNOWN (allowed)" : "FINDING")} {finding.Code} x{finding.Count} seed {seed}");
                foreach (var example in finding.Examples)
                {
                    Console.WriteLine($"      {example}");
                }

                Console.WriteLine($"      replay: benchmarks/fault-search.sh --seed {seed} --length {options.Length.TotalSeconds:0} --strategies {string.Join(',', options.Strategies.Select(s => s.Name))}");
            }

            Console.WriteLine($"  outcomes: {run.Directory}/outcomes.txt");
        }

        return failed ? 1 : controlCaught ? 0 : 3;
    }
}
