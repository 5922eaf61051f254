using ScottPlot;

namespace DualLock.Comparison.Sweep;

/// <summary>Acknowledged/s and p95 against offered load, one line per strategy, spread and hot side by side; lost updates in red.</summary>
internal static class SweepChart
{
    public static void Save(string path, IReadOnlyList<SweepStep> steps)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(4);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(rows: 2, columns: 2);
        var palette = new ScottPlot.Palettes.Category10();
        var strategies = steps.Select(s => s.Strategy).Distinct().ToList();
        for (var column = 0; column < SweepCommand.Scenarios.Length; column++)
        {
            var scenario = SweepCommand.Scenarios[column];
            var throughput = multiplot.GetPlot(column);
            var latency = multiplot.GetPlot(2 + column);
            for (var i = 0; i < strategies.Count; i++)
            {
                var line = steps.Where(s => s.Strategy == strategies[i] && s.Scenario == scenario).ToArray();
                if (line.Length == 0)
                {
                    continue;
                }

                var offered = line.Select(s => s.OfferedPerSecond).ToArray();
                var color = palette.GetColor(i);
                var ack = throughput.Add.Scatter(offered, line.Select(s => s.AcknowledgedPerSecond).ToArray(), color);
                ack.LegendText = strategies[i];
                latency.Add.Scatter(offered, line.Select(s => Math.Log10(Math.Max(s.P95Ms, 0.1))).ToArray(), color);
                foreach (var lost in line.Where(s => s.LostUsers > 0))
                {
                    var marker = throughput.Add.Marker(lost.OfferedPerSecond, lost.AcknowledgedPerSecond, MarkerShape.FilledCircle, 12, Colors.Crimson);
                    marker.LegendText = string.Empty;
                }
            }

            throughput.Title($"{scenario}: acknowledged/s vs offered/s (red dot: lost updates)");
            throughput.ShowLegend(Alignment.UpperLeft);
            latency.Title($"{scenario}: p95 ms (log) vs offered/s; line at 50 ms");
            latency.Add.HorizontalLine(Math.Log10(SweepCommand.P95LimitMs), 1, Colors.Gray);
            latency.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
                [new Tick(0, "1"), new Tick(1, "10"), new Tick(2, "100"), new Tick(3, "1000"), new Tick(4, "10000")]);
        }

        multiplot.SavePng(path, 1400, 1000);
    }
}
