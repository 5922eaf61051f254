using ScottPlot;

namespace DualLock.Comparison;

/// <summary>One PNG: latency percentiles (grouped bars, log scale) above throughput, per strategy.</summary>
internal static class Chart
{
    public static void Save(string path, IReadOnlyList<StrategyResult> rows)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        var latency = multiplot.GetPlot(0);
        var throughput = multiplot.GetPlot(1);

        (string Name, Func<StrategyResult, double> Value, Color Color)[] series =
        [
            ("p50", r => r.P50Ms, Colors.SteelBlue),
            ("p95", r => r.P95Ms, Colors.Orange),
            ("p99", r => r.P99Ms, Colors.Crimson),
        ];
        var ticks = new List<Tick>();
        for (var i = 0; i < rows.Count; i++)
        {
            for (var s = 0; s < series.Length; s++)
            {
                var bar = latency.Add.Bar(position: (i * (series.Length + 1)) + s, value: Math.Log10(Math.Max(series[s].Value(rows[i]), 0.01)));
                bar.Color = series[s].Color;
                bar.LegendText = i == 0 ? series[s].Name : string.Empty;
            }

            ticks.Add(new Tick((i * (series.Length + 1)) + 1, rows[i].Strategy));
        }

        latency.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual([.. ticks]);
        latency.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            [new Tick(-1, "0.1"), new Tick(0, "1"), new Tick(1, "10"), new Tick(2, "100"), new Tick(3, "1000"), new Tick(4, "10000")]);
        latency.Title("Charge latency (ms, log scale)");
        latency.ShowLegend(Alignment.UpperLeft);

        var bars = throughput.Add.Bars(rows.Select(r => r.ThroughputPerSecond).ToArray());
        for (var i = 0; i < bars.Bars.Count; i++)
        {
            bars.Bars[i].FillColor = rows[i].LostUpdates ? Colors.Crimson : Colors.SeaGreen;
        }

        throughput.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            rows.Select((r, i) => new Tick(i, r.Strategy)).ToArray());
        throughput.Title("Acknowledged charges per second (red: the oracle found lost updates)");
        throughput.Axes.Margins(bottom: 0);

        multiplot.SavePng(path, 1200, 900);
    }
}
