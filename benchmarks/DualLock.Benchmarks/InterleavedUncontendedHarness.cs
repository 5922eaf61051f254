using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace DualLock.Benchmarks;

/// <summary>
/// The uncontended Redis benchmarks (<see cref="UncontendedRedisBenchmarks"/>, the same methods) measured
/// interleaved: each round times every method for the same number of calls, in a rotating order, and the
/// ratios to two PINGs are taken within the round. On a shared machine whose load drifts over minutes,
/// BenchmarkDotNet's one-method-after-another ratios move with the drift; these see the same load.
/// </summary>
/// <remarks><c>uncontended [--rounds 21] [--ops 500]</c>; writes <c>benchmarks/results/uncontended-interleaved.md</c>.</remarks>
internal static class InterleavedUncontendedHarness
{
    public static async Task<int> RunAsync(string[] args)
    {
        var rounds = Option(args, "--rounds", 21);
        var ops = Option(args, "--ops", 500);
        var bench = new UncontendedRedisBenchmarks();
        bench.Setup();
        try
        {
            (string Name, Func<Task> Call)[] methods =
            [
                ("two PINGs (limit)", bench.TwoPings),
                ("raw SET NX PX + compare-and-delete", bench.RawSetNxAndDelete),
                ("DualLock's two scripts alone (floor)", bench.DualLockScriptsAlone),
                ("DualLock Redis stage", () => bench.DualLockRedis().AsTask()),
                ("DistributedLock.Redis", bench.DistributedLockRedis),
                ("RedLock.net (single endpoint)", bench.RedLockNet),
            ];
            foreach (var (_, call) in methods)
            {
                for (var i = 0; i < ops; i++)
                {
                    await call();
                }
            }

            var micros = methods.Select(_ => new List<double>()).ToArray();
            for (var round = 0; round < rounds; round++)
            {
                for (var k = 0; k < methods.Length; k++)
                {
                    var m = (k + round) % methods.Length;
                    var call = methods[m].Call;
                    var watch = Stopwatch.StartNew();
                    for (var i = 0; i < ops; i++)
                    {
                        call().GetAwaiter().GetResult(); // blocking, as BenchmarkDotNet calls an async benchmark
                    }

                    micros[m].Add(watch.Elapsed.TotalMicroseconds / ops);
                }
            }

            var report = new StringBuilder()
                .AppendLine(CultureInfo.InvariantCulture, $"Interleaved uncontended Redis, {rounds} rounds x {ops} calls per method, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load average {LoadAverage()}")
                .AppendLine()
                .AppendLine("| method | median µs | median ratio to two PINGs (within a round) | min-max ratio |")
                .AppendLine("|---|---:|---:|---:|");
            for (var m = 0; m < methods.Length; m++)
            {
                var ratios = micros[m].Zip(micros[0], (a, b) => a / b).Order().ToList();
                report.AppendLine(CultureInfo.InvariantCulture, $"| {methods[m].Name} | {Median(micros[m]):F1} | {Median(ratios):F3} | {ratios[0]:F2}-{ratios[^1]:F2} |");
            }

            Console.Write(report);
            var path = Path.Combine(RepositoryRoot.Find(), "benchmarks", "results", "uncontended-interleaved.md");
            await File.WriteAllTextAsync(path, report.ToString());
            return 0;
        }
        finally
        {
            bench.Cleanup();
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private static string LoadAverage()
        => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
}
