using System.Diagnostics;
using System.Globalization;

namespace DualLock.Benchmarks;

/// <summary>
/// The low-load pairs of <see cref="CombinerLowLoadBenchmarks"/>, interleaved: BenchmarkDotNet runs one
/// method after the other, so on a shared machine a load change between two methods moves their
/// ratio. Here each round times a block of the plain pipeline and a block of the combiner back to
/// back (ABBA order), and the ratio is the median of the per-round ratios.
/// </summary>
internal static class CombinerPairedCheck
{
    public static async Task<int> RunAsync(string[] args)
    {
        var rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 40;
        var bench = new CombinerLowLoadBenchmarks();
        bench.Setup();
        try
        {
            Console.WriteLine($"| pair | rounds | calls per block | plain median | combiner median | ratio median | ratio p25-p75 |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
            await PairAsync("dual, one charge", rounds, 50, bench.DualPipeline, bench.DualCombiner);
            await PairAsync("in-process, trivial work", rounds, 20_000, bench.InProcessPipeline, bench.InProcessCombiner);
        }
        finally
        {
            bench.Cleanup();
        }

        return 0;
    }

    private static async Task PairAsync(string name, int rounds, int calls, Func<ValueTask<long>> plain, Func<ValueTask<long>> combined)
    {
        await BlockAsync(plain, calls);
        await BlockAsync(combined, calls);
        var plainNs = new List<double>();
        var combinedNs = new List<double>();
        var ratios = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            double a, b;
            if (round % 2 == 0)
            {
                a = await BlockAsync(plain, calls);
                b = await BlockAsync(combined, calls);
            }
            else
            {
                b = await BlockAsync(combined, calls);
                a = await BlockAsync(plain, calls);
            }

            plainNs.Add(a);
            combinedNs.Add(b);
            ratios.Add(b / a);
        }

        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"| {name} | {rounds} | {calls} | {Format(Quantile(plainNs, 0.5))} | {Format(Quantile(combinedNs, 0.5))} | {Quantile(ratios, 0.5):0.000} | {Quantile(ratios, 0.25):0.000}-{Quantile(ratios, 0.75):0.000} |"));
    }

    /// <summary>Runs <paramref name="calls"/> calls one after the other; returns the mean ns per call.</summary>
    private static async Task<double> BlockAsync(Func<ValueTask<long>> call, int calls)
    {
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < calls; i++)
        {
            await call();
        }

        return Stopwatch.GetElapsedTime(start).TotalNanoseconds / calls;
    }

    private static double Quantile(List<double> values, double q)
    {
        var sorted = values.Order().ToArray();
        var position = q * (sorted.Length - 1);
        var low = (int)Math.Floor(position);
        var high = (int)Math.Ceiling(position);
        return sorted[low] + ((sorted[high] - sorted[low]) * (position - low));
    }

    private static string Format(double ns) => ns >= 100_000
        ? string.Create(CultureInfo.InvariantCulture, $"{ns / 1_000_000:0.000} ms")
        : string.Create(CultureInfo.InvariantCulture, $"{ns:0.0} ns");
}
