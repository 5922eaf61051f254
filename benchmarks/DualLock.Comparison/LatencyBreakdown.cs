using System.Globalization;
using System.Text;

namespace DualLock.Comparison;

/// <summary>The results.md section that says what the charge latency is made of: cold vs warm, generator, server, GC, JIT.</summary>
internal static class LatencyBreakdown
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    private static readonly string[] Columns =
    [
        "strategy", "warm-up p95 / max ms", "first 5 s p95 ms", "after 5 s p95 ms", "server p95 / max ms", "send lag p95 / max ms",
        "server GC pauses ms (count)", "server JIT ms (methods)", "warm-up server JIT ms", "generator GC pauses ms",
    ];

    public static void Write(StringBuilder md, IReadOnlyList<StrategyResult> runs)
    {
        md.AppendLine("What the latency is made of (medians over runs). \"server\": the API's own time (its `Server-Timing: app`, ");
        md.AppendLine("request reaching the middleware to the response starting); the rest of a charge's latency is sockets, Kestrel and the ");
        md.AppendLine("generator's continuations. \"send lag\": how late the open-loop generator sent a charge against its schedule. ");
        md.AppendLine("GC and JIT are the runtime's counters (meter System.Runtime) over the measured phase, summed over the instances.").AppendLine();
        md.AppendLine("| " + string.Join(" | ", Columns) + " |");
        md.AppendLine("|---|" + string.Concat(Enumerable.Repeat("---:|", Columns.Length - 1)));
        foreach (var group in runs.GroupBy(r => r.Strategy))
        {
            var p = group.Select(r => r.Phases).ToList();
            double M(Func<LatencyPhases, double?> f) => Median(p.Select(f));
            md.AppendLine(Invariant, $"| {group.Key} | {F(M(x => x.WarmUp?.P95Ms))} / {F(M(x => x.WarmUp?.MaxMs))} | {F(M(x => x.First5s?.P95Ms))} | {F(M(x => x.After5s?.P95Ms))} "
                + $"| {F(M(x => x.Measured?.ServerP95Ms))} / {F(M(x => x.Measured?.ServerMaxMs))} | {F(M(x => x.Measured?.LagP95Ms))} / {F(M(x => x.Measured?.LagMaxMs))} "
                + $"| {F(M(x => x.Server.GcPauseMs))} ({F(M(x => x.Server.GcCount))}) | {F(M(x => x.Server.JitMs))} ({F(M(x => x.Server.JitMethods))}) "
                + $"| {F(M(x => x.WarmUpServer.JitMs))} | {F(M(x => x.Generator.GcPauseMs))} |");
        }

        md.AppendLine().AppendLine("p95 ms per second of the measured phase (by due time), each run:").AppendLine();
        foreach (var run in runs)
        {
            var warm = run.Phases.WarmUpPerSecond.Count > 0 ? $"warm-up {string.Join(' ', run.Phases.WarmUpPerSecond.Select(s => F(s.Stats.P95Ms)))} | " : "";
            md.AppendLine(Invariant, $"- {run.Strategy} run {run.Run}: {warm}{string.Join(' ', run.Phases.PerSecond.Select(s => F(s.Stats.P95Ms)))}");
        }
    }

    private static double Median(IEnumerable<double?> values)
    {
        var sorted = values.Where(v => v is not null && !double.IsNaN(v.Value)).Select(v => v!.Value).Order().ToArray();
        return sorted.Length == 0 ? double.NaN
            : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string F(double value) => double.IsNaN(value) ? "-" : value.ToString(value >= 100 ? "0" : "0.0", Invariant);
}
