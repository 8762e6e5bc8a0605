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

    /// <summary>docs/benchmarks.png: the suites' charts on one sheet, two to a row, in the report's order.</summary>
    public static string? Compose(string repo)
    {
        var parts = new[] { "decode", "ttfs", "wire", "throughput", "load" }.Select(n => PathFor(repo, n)).Where(File.Exists).ToList();
        if (parts.Count == 0) return null;
        const int w = 900, h = 520;
        int rows = (parts.Count + 1) / 2;
        using var surface = SkiaSharp.SKSurface.Create(new SkiaSharp.SKImageInfo(2 * w, rows * h));
        surface.Canvas.Clear(SkiaSharp.SKColors.White);
        for (int i = 0; i < parts.Count; i++)
        {
            using var chart = SkiaSharp.SKBitmap.Decode(parts[i]);
            surface.Canvas.DrawBitmap(chart, new SkiaSharp.SKRect(i % 2 * w, i / 2 * h, i % 2 * w + w, i / 2 * h + h));
        }
        string path = Path.Combine(repo, "docs", "benchmarks.png");
        using var image = surface.Snapshot();
        using var png = image.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
        using var file = File.Create(path);
        png.SaveTo(file);
        return path;
    }

    static void Save(Plot plot, string path, string title, string yLabel)
    {
        plot.Title(title);
        plot.YLabel(yLabel);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        plot.SavePng(path, 900, 520);
    }
}
