using System.Globalization;

namespace DualLock.Comparison;

/// <summary>
/// The .NET runtime's own counters (meter <c>System.Runtime</c>): GC pause time and count, JIT time and
/// methods. The API instances export theirs on <c>/metrics</c>; the generator reads its own in process.
/// Read at the phase boundaries, the differences say how much of a phase went to GC and JIT.
/// </summary>
internal sealed record RuntimeCounters(double GcPauseMs, double GcCount, double JitMs, double JitMethods)
{
    public static readonly RuntimeCounters Zero = new(0, 0, 0, 0);

    public static RuntimeCounters operator -(RuntimeCounters a, RuntimeCounters b)
        => new(a.GcPauseMs - b.GcPauseMs, a.GcCount - b.GcCount, a.JitMs - b.JitMs, a.JitMethods - b.JitMethods);

    public static RuntimeCounters operator +(RuntimeCounters a, RuntimeCounters b)
        => new(a.GcPauseMs + b.GcPauseMs, a.GcCount + b.GcCount, a.JitMs + b.JitMs, a.JitMethods + b.JitMethods);

    /// <summary>This process (the load generator).</summary>
    public static RuntimeCounters OfThisProcess()
        => new(
            GC.GetTotalPauseDuration().TotalMilliseconds,
            GC.CollectionCount(0), // gen0 counts every collection (a gen1/gen2 collection collects gen0 too)
            System.Runtime.JitInfo.GetCompilationTime().TotalMilliseconds,
            System.Runtime.JitInfo.GetCompiledMethodCount());

    /// <summary>The sum over the instances' Prometheus endpoints; Zero for an instance that does not answer.</summary>
    public static async Task<RuntimeCounters> OfInstancesAsync(HttpClient http, IEnumerable<Uri> instances, CancellationToken cancellationToken)
    {
        var sum = Zero;
        foreach (var instance in instances)
        {
            try
            {
                sum += Parse(await http.GetStringAsync(new Uri(instance, "/metrics"), cancellationToken));
            }
            catch (HttpRequestException)
            {
                // Counted as zero: the report says "server GC/JIT" only from what answered.
            }
        }

        return sum;
    }

    /// <summary>Sums the samples of the runtime's counters over their labels (e.g. GC generation).</summary>
    internal static RuntimeCounters Parse(string exposition)
    {
        double pause = 0, count = 0, jit = 0, methods = 0;
        foreach (var line in exposition.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            // name{labels} value [timestamp]; only the runtime's lines are read (others' label values may hold braces).
            var end = line.IndexOfAny([' ', '{']);
            if (end <= 0 || !line.StartsWith("dotnet_", StringComparison.Ordinal))
            {
                continue;
            }

            var name = line[..end];
            var rest = line[end] == '{' ? line[(line.LastIndexOf('}') + 1)..] : line[end..];
            var value = double.Parse(rest.Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            switch (name)
            {
                case "dotnet_gc_pause_time_seconds_total":
                    pause += value * 1000;
                    break;
                case "dotnet_gc_collections_total":
                    count += value;
                    break;
                case "dotnet_jit_compilation_time_seconds_total":
                    jit += value * 1000;
                    break;
                case "dotnet_jit_compiled_methods_total":
                    methods += value;
                    break;
            }
        }

        return new RuntimeCounters(pause, count, jit, methods);
    }
}
