using NoirCode.Attack.Evaluation;
using ScottPlot;

namespace NoirCode.Attack.Report;

/// <summary>
/// The privacy–utility figure: per setting, the best attack's CRT and content CRT on prompts, the best prompt
/// ASR (all tokens and content only), the frequency-guess floor, and utility (infilling exact match) where known.
/// </summary>
public static class PrivacyUtilityPlot
{
    public static void Save(string path, IReadOnlyList<SettingResult> settings, UtilityTable utility)
    {
        var plot = new Plot();
        var series = new (string Label, Color Color, Func<SettingResult, double?> Value)[]
        {
            ("best CRT (prompts)", Colors.SteelBlue, s => Best(s, a => a.Prompt.Crt)),
            ("best content CRT (prompts)", Colors.Navy, s => Best(s, a => a.Prompt.ContentCrt)),
            ("frequency-guess content CRT", Colors.Gray, s => s.Attacks.FirstOrDefault(a => a.Attack == PrivacyReportWriter.BaselineName)?.Prompt.ContentCrt),
            ("best ASR (prompts)", Colors.OrangeRed, s => Best(s, a => a.Prompt.Asr)),
            ("best content ASR (prompts)", Colors.DarkRed, s => Best(s, a => a.Prompt.ContentAsr)),
            ("utility: infilling exact match", Colors.ForestGreen, s => utility.ExactMatch(s.Setting)),
        };
        double width = 0.8 / series.Length;
        var bars = new List<Bar>();
        for (int i = 0; i < settings.Count; i++)
            for (int j = 0; j < series.Length; j++)
                if (series[j].Value(settings[i]) is double v)
                    bars.Add(new Bar { Position = i - 0.4 + width * (j + 0.5), Value = v, Size = width * 0.9, FillColor = series[j].Color });
        plot.Add.Bars(bars);
        foreach (var (label, color, _) in series)
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = label, FillColor = color });
        plot.ShowLegend(Alignment.UpperRight);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, settings.Count).Select(i => (double)i).ToArray(), settings.Select(s => s.Setting).ToArray());
        plot.Axes.SetLimits(-0.6, settings.Count - 0.4, 0, 1.35);
        plot.Title(settings.Any(s => utility.ExactMatch(s.Setting) != null)
            ? "Privacy (attack success) and utility per setting"
            : "Privacy (attack success) per setting; utility figures not supplied (--utility)");
        plot.YLabel("share (0–1)");
        plot.SavePng(path, 1100, 550);
    }

    static double? Best(SettingResult s, Func<Metrics.AttackSummary, double> f)
    {
        var real = s.Attacks.Where(a => a.Attack != PrivacyReportWriter.BaselineName).ToList();
        return real.Count == 0 ? null : real.Max(f);
    }
}
