using System.Diagnostics;
using System.Globalization;

namespace DualLock.Comparison.Http;

/// <summary>One instrument of the DualLock meter over one measured window: the median of dotnet-counters' per-second p50 and p95.</summary>
internal sealed record CounterFigure(string Target, string Scenario, int Run, string Instrument, double P50Ms, double P95Ms, int Samples);

/// <summary>
/// <c>--counters</c>: the DualLock meter (<c>duallock.acquire.duration</c> and <c>duallock.hold.duration</c> per stage,
/// the counters) of the first instance, collected by dotnet-counters while a scenario is measured. It is the profile
/// behind docs/strategies/dual.md's "What a hot charge costs": where the time of one charge goes, stage by stage.
/// benchmarks/http.sh installs the tool into artifacts/tools; the collection adds a listener to the instance, so its
/// req/s are not compared with a run without it.
/// </summary>
internal static class DualLockCounters
{
    public static string ToolPath(string root) => Path.Combine(root, "artifacts", "tools", "dotnet-counters");

    /// <summary>Starts collecting from <paramref name="pid"/> for <paramref name="duration"/> into <paramref name="csv"/>.</summary>
    public static Process Start(string tool, int pid, TimeSpan duration, string csv)
    {
        var info = new ProcessStartInfo(tool) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[]
                 {
                     "collect", "-p", pid.ToString(CultureInfo.InvariantCulture), "--counters", "DualLock", "--format", "csv",
                     "-o", csv, "--refresh-interval", "1", "--maxHistograms", "64",
                     "--duration", TimeSpan.FromSeconds(Math.Ceiling(duration.TotalSeconds)).ToString(@"dd\:hh\:mm\:ss", CultureInfo.InvariantCulture),
                 })
        {
            info.ArgumentList.Add(arg);
        }

        return Process.Start(info) ?? throw new InvalidOperationException($"Could not start {tool}.");
    }

    /// <summary>Waits for the collection to end by its own duration (killed after twice that) and summarises the file.</summary>
    public static async Task<IReadOnlyList<CounterFigure>> FinishAsync(Process collector, TimeSpan duration, string csv, string target, string scenario, int run)
    {
        var output = collector.StandardOutput.ReadToEndAsync();
        var errors = collector.StandardError.ReadToEndAsync();
        using var bound = new CancellationTokenSource(duration * 2 + TimeSpan.FromSeconds(10));
        try
        {
            await collector.WaitForExitAsync(bound.Token);
        }
        catch (OperationCanceledException)
        {
            collector.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet-counters did not end within {duration * 2 + TimeSpan.FromSeconds(10)}: {await errors}");
        }

        await output;
        if (collector.ExitCode != 0 || !File.Exists(csv))
        {
            throw new InvalidOperationException($"dotnet-counters exited {collector.ExitCode} without {csv}: {await errors}");
        }

        return Summarise(await File.ReadAllLinesAsync(csv), target, scenario, run);
    }

    /// <summary>
    /// dotnet-counters' CSV has one row per instrument, tag set and second: <c>Timestamp,Provider,Counter Name,Counter Type,Mean/Increment</c>,
    /// a histogram's name carrying <c>Percentile=50</c> (or 95, 99) among its tags, in the instrument's unit (seconds here).
    /// </summary>
    internal static IReadOnlyList<CounterFigure> Summarise(IEnumerable<string> lines, string target, string scenario, int run)
    {
        var series = new Dictionary<(string Instrument, string Percentile), List<double>>();
        foreach (var line in lines.Skip(1))
        {
            var fields = SplitCsv(line);
            if (fields.Count < 5 || !double.TryParse(fields[4], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                continue;
            }

            var (instrument, percentile) = SplitPercentile(fields[2]);
            if (percentile is not ("50" or "95"))
            {
                continue;
            }

            var key = (instrument, percentile);
            if (!series.TryGetValue(key, out var values))
            {
                series[key] = values = [];
            }

            values.Add(value * 1000);
        }

        return series.Keys.Select(k => k.Instrument).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select(instrument =>
            {
                var p50 = series.GetValueOrDefault((instrument, "50")) ?? [];
                var p95 = series.GetValueOrDefault((instrument, "95")) ?? [];
                return new CounterFigure(target, scenario, run, instrument, MedianOrNaN(p50), MedianOrNaN(p95), p50.Count);
            })
            .ToList();
    }

    private static double MedianOrNaN(List<double> values) => values.Count == 0 ? double.NaN : Report.Median(values);

    /// <summary>
    /// <c>name (unit)[tag=a;tag=b;Percentile=50]</c> to the name with its other tags and the percentile;
    /// <see langword="null"/> for a counter, which has no percentile.
    /// </summary>
    private static (string Instrument, string? Percentile) SplitPercentile(string name)
    {
        var open = name.IndexOf('[', StringComparison.Ordinal);
        if (open < 0 || !name.EndsWith(']'))
        {
            return (name, null);
        }

        var tags = name[(open + 1)..^1].Split(';');
        var percentile = tags.FirstOrDefault(t => t.StartsWith("Percentile=", StringComparison.Ordinal));
        var rest = tags.Where(t => !ReferenceEquals(t, percentile)).ToArray();
        var instrument = rest.Length == 0 ? name[..open] : $"{name[..open]}[{string.Join(';', rest)}]";
        return (instrument, percentile?["Percentile=".Length..]);
    }

    /// <summary>Splits one CSV row, honouring double quotes (a counter name with tags contains commas).</summary>
    private static List<string> SplitCsv(string line)
    {
        var fields = new List<string>();
        var field = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (c == '"')
            {
                if (quoted && i + 1 < line.Length && line[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else
                {
                    quoted = !quoted;
                }
            }
            else if (c == ',' && !quoted)
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else
            {
                field.Append(c);
            }
        }

        fields.Add(field.ToString());
        return fields;
    }
}
