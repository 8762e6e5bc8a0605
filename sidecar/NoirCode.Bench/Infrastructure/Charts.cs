using ScottPlot;

namespace NoirCode.Bench.Infrastructure;

/// <summary>PNG charts for docs/benchmarks.md (ScottPlot, drawn with SkiaSharp's Linux native library).</summary>
public static class Charts
{
    public static string PathFor(string repo, string name) => Path.Combine(repo, "docs", $"benchmarks-{name}.png");

    /// <summary>One bar per group and series: values[series][group].</summary>
    public static void GroupedBars(string path, string title, string yLabel, IReadOnlyList<string> groups, IReadOnlyList<string> series, double[][] values)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        double width = 0.8 / series.Count;
        for (int s = 0; s < series.Count; s++)
        {
            var bars = new List<Bar>();
            for (int g = 0; g < groups.Count; g++)
                bars.Add(new Bar { Position = g + (s - (series.Count - 1) / 2.0) * width, Value = values[s][g], Size = width * 0.9, FillColor = palette.GetColor(s) });
            var added = plot.Add.Bars(bars);
            added.LegendText = series[s];
        }
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, groups.Count).Select(i => (double)i).ToArray(), groups.ToArray());
        plot.Axes.Margins(bottom: 0);
        if (series.Count > 1) plot.ShowLegend(Alignment.UpperLeft);
        Save(plot, path, title, yLabel);
    }

    public static void Lines(string path, string title, string xLabel, string yLabel, double[] xs, IReadOnlyList<(string Name, double[] Ys)> series)
    {
        var plot = new Plot();
        foreach (var (name, ys) in series)
        {
            var line = plot.Add.Scatter(xs, ys);
            line.LegendText = name;
            line.MarkerSize = 7;
        }
        plot.XLabel(xLabel);
        if (series.Count > 1) plot.ShowLegend(Alignment.UpperLeft);
        Save(plot, path, title, yLabel);
    }

    static void Save(Plot plot, string path, string title, string yLabel)
    {
        plot.Title(title);
        plot.YLabel(yLabel);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        plot.SavePng(path, 900, 520);
    }
}
