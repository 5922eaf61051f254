using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace DualLock.Benchmarks;

/// <summary>
/// Methods measured interleaved: each round times every method for the same number of calls, in a rotating order,
/// and each method's ratio to the baseline (the first method) is taken within the round. On a shared machine whose
/// load drifts over minutes, BenchmarkDotNet's one-method-after-another ratios move with the drift; these see the same load.
/// </summary>
internal static class Interleaved
{
    /// <summary>Warms every method up, runs the rounds, prints and writes the table to <paramref name="path"/>.</summary>
    public static async Task RunAsync(string title, (string Name, Func<Task> Call)[] methods, int rounds, int ops, string path)
    {
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
            .AppendLine(CultureInfo.InvariantCulture, $"{title}, {rounds} rounds x {ops} calls per method, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load average {LoadAverage()}")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"| method | median µs | median ratio to {methods[0].Name} (within a round) | min-max ratio |")
            .AppendLine("|---|---:|---:|---:|");
        for (var m = 0; m < methods.Length; m++)
        {
            var ratios = micros[m].Zip(micros[0], (a, b) => a / b).Order().ToList();
            report.AppendLine(CultureInfo.InvariantCulture, $"| {methods[m].Name} | {Median(micros[m]):F1} | {Median(ratios):F3} | {ratios[0]:F2}-{ratios[^1]:F2} |");
        }

        Console.Write(report);
        await File.WriteAllTextAsync(path, report.ToString());
    }

    public static int Option(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    private static string LoadAverage()
        => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
}
