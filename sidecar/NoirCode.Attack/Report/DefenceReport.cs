using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NoirCode.Attack.Decipherment;
using NoirCode.Attack.Volume;
using ScottPlot;

namespace NoirCode.Attack.Report;

/// <summary>One defence candidate on both rulers: what the strongest attack reads of its traffic, and its utility.</summary>
/// <param name="LossIncrease">held-out loss against the same run without the candidate (one table, or no noise): relative</param>
public sealed record DefenceCandidate(string Name, string Mechanism, string? PrivacySetting, DecipherScore? Privacy, double? HeldoutLoss,
    double? TotalEpsilon, double? LossIncrease);

/// <summary>
/// The defences section of the privacy report: each candidate's volume curve (from <c>noir attack volume</c>) beside its
/// held-out loss at an equal STuning budget (from <c>scripts/defence-utility</c>), the shipped <c>default</c>, a table and
/// the frontier figure (privacy against utility, one point per candidate).
/// </summary>
public static class DefenceReport
{
    const string Start = "<!-- defences:start -->", End = "<!-- defences:end -->";

    /// <param name="utilityJson">scripts/defence-utility's utility.json</param>
    /// <param name="defaultSetting">the setting the shipped configuration runs (a name in the report's settings)</param>
    /// <param name="volume">the observed volume the candidates are compared at</param>
    public static IReadOnlyList<DefenceCandidate> MergeInto(string reportJson, string utilityJson, string defaultSetting, long volume)
    {
        var report = JsonNode.Parse(File.ReadAllText(reportJson))!.AsObject();
        var utility = JsonNode.Parse(File.ReadAllText(utilityJson))!.AsObject();
        var settings = report["settings"]?.AsArray() ?? throw new ArgumentException($"{reportJson} has no settings");
        if (settings.All(s => (string?)s?["setting"] != defaultSetting))
            throw new ArgumentException($"{reportJson} has no setting '{defaultSetting}' to name as the default");
        double clean = (double?)utility["clean_heldout_loss"] ?? throw new ArgumentException($"{utilityJson} has no clean_heldout_loss");
        var oracle = report["oracle"] is JsonArray o ? VolumeCurve.PointsFrom(o) : new List<DecipherScore>();
        JsonObject? Setting(string name) => settings.FirstOrDefault(s => (string?)s?["setting"] == name)?.AsObject();
        DecipherScore? At(IReadOnlyList<DecipherScore> points) => points.LastOrDefault(p => p.Tokens <= volume);
        IReadOnlyList<DecipherScore> Curve(string name) => Setting(name)?["volume"] is JsonArray a ? VolumeCurve.PointsFrom(a) : new List<DecipherScore>();

        var candidates = new List<DefenceCandidate>();
        double? Baseline(string list, string key, double value) =>
            (double?)utility[list]?.AsArray().FirstOrDefault(r => (double?)r?[key] == value)?["heldout_loss"];
        double? Increase(double? loss, double? baseline) => loss is double l && baseline is double b && b > 0 ? Math.Round(l / b - 1, 4) : null;
        foreach (var row in utility["homophones"]?.AsArray() ?? new JsonArray())
        {
            int k = (int)row!["homophones"]!;
            double eps = (double)row["epsilon"]!;
            // The real traffic where it was measured; else the oracle cipher of that mechanism (the attack's best case).
            string? name = new[] { $"eps{eps:G}-k{k}-untuned", k == 1 ? null : $"oracle-k{k}" }.FirstOrDefault(n => n != null && Curve(n).Count > 0);
            var points = name != null ? Curve(name) : k == 1 ? oracle : new List<DecipherScore>();
            candidates.Add(new DefenceCandidate(k == 1 ? "NOIR (one table per key)" : $"homophonic INDVocab, k = {k}",
                k == 1 ? "INDVocab + LTokenizer (the paper)" : $"{k} INDVocab tables, one row per occurrence", name ?? (k == 1 ? "oracle" : null),
                At(points), (double?)row["heldout_loss"], (double?)row["total_epsilon"], Increase((double?)row["heldout_loss"], Baseline("homophones", "homophones", 1))));
            if (name != null) SetUtility(Setting(name), (double?)row["heldout_loss"], clean);
        }
        foreach (var row in utility["residual_noise"]?.AsArray() ?? new JsonArray())
        {
            double sigma = (double)row!["residual_noise"]!;
            // On the demo bundle the row was measured with (rows without the field: the one-table bundle, before 2026-11-29);
            // without noise it is that bundle's own traffic, whose curve is its demo setting.
            int k = (int?)row["homophones"] ?? 1;
            string bundle = k == 1 ? "one-table demo bundle" : $"k = {k} demo bundle";
            string name = sigma == 0 ? (k == 1 ? "demo" : $"demo-k{k}") : $"eps13-noise{sigma:G3}-untuned";
            var points = Curve(name);
            candidates.Add(new DefenceCandidate(sigma == 0 ? $"{bundle}, no noise" : $"residual noise σ = {sigma:G3} ({bundle}, not re-tuned)",
                "per-occurrence noise, cancelled on return", points.Count > 0 ? name : null, At(points), (double?)row["heldout_loss"], null,
                Increase((double?)row["heldout_loss"], Baseline("residual_noise", "residual_noise", 0))));
            if (points.Count > 0) SetUtility(Setting(name), (double?)row["heldout_loss"], clean);
        }
        // The shipped demo bundles as they are (their own tuning, not the equal budget above): the default's utility
        // beside the one-table bundle it replaced (measured as a bundle row, or as the noise runs' σ = 0 row).
        var bundles = utility["bundles"]?.AsArray() ?? new JsonArray();
        double? oneTableBundle = (double?)bundles.FirstOrDefault(r => (int?)r?["homophones"] == 1)?["heldout_loss"]
            ?? (double?)utility["residual_noise"]?.AsArray().FirstOrDefault(r => (double?)r?["residual_noise"] == 0 && ((int?)r?["homophones"] ?? 1) == 1)?["heldout_loss"];
        foreach (var row in bundles)
        {
            string name = (string?)row!["setting"] ?? throw new ArgumentException($"{utilityJson}: a bundles row without its setting");
            int k = (int?)row["homophones"] ?? 1;
            var points = Curve(name);
            candidates.Add(new DefenceCandidate($"shipped demo bundle, {(k == 1 ? "one table" : $"k = {k}")}{(name == defaultSetting ? " (the default)" : "")}",
                $"{(k == 1 ? "INDVocab + LTokenizer" : $"{k} INDVocab tables")}, the bundle's own tuning ({(int?)row["tuning_steps"]} steps since its keys)",
                points.Count > 0 ? name : null, At(points), (double?)row["heldout_loss"], (double?)row["total_epsilon"],
                k == 1 ? 0 : Increase((double?)row["heldout_loss"], oneTableBundle)));
            SetUtility(Setting(name), (double?)row["heldout_loss"], clean, (double?)row["infill_exact_match"]);
        }
        report["default"] = defaultSetting;
        report["defences"] = new JsonObject
        {
            ["compared_at_tokens"] = volume, ["heldout_loss_clean"] = clean, ["utility_run"] = utility.DeepClone(),
            ["candidates"] = new JsonArray(candidates.Select(c => (JsonNode)new JsonObject
            {
                ["candidate"] = c.Name, ["mechanism"] = c.Mechanism, ["privacy_setting"] = c.PrivacySetting,
                ["content_read"] = c.Privacy is { } p ? Math.Round(p.ContentPositionAccuracy, 4) : null,
                ["distinct_identifiers_read"] = c.Privacy is { } q && !double.IsNaN(q.DistinctIdentifiers) ? Math.Round(q.DistinctIdentifiers, 4) : null,
                ["at_tokens"] = c.Privacy?.Tokens, ["heldout_loss"] = c.HeldoutLoss, ["heldout_loss_increase"] = c.LossIncrease, ["total_epsilon"] = c.TotalEpsilon,
            }).ToArray()),
        };
        File.WriteAllText(reportJson, report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        string stem = Path.ChangeExtension(reportJson, null);
        SavePlot(stem + "-frontier.png", candidates, volume);
        Restore(reportJson);
        return candidates;
    }

    /// <summary>The section again from the report's JSON (noir attack render rewrites the Markdown from it).</summary>
    public static void Restore(string reportJson)
    {
        var report = JsonNode.Parse(File.ReadAllText(reportJson))!.AsObject();
        string stem = Path.ChangeExtension(reportJson, null);
        MarkdownSections.Write(stem + ".md", Start, End, report["defences"] is JsonObject defences
            ? Markdown(defences, (string?)report["default"] ?? "—", Path.GetFileName(stem + "-frontier.png")) : "");
    }

    static void SetUtility(JsonObject? setting, double? heldout, double clean, double? infillExactMatch = null)
    {
        if (setting == null) return;
        var u = setting["utility"] as JsonObject ?? new JsonObject();
        u["heldout_loss"] = heldout;
        u["heldout_loss_clean"] = clean;
        if (infillExactMatch != null) u["infill_exact_match"] = infillExactMatch;
        else if (!u.ContainsKey("infill_exact_match")) u["infill_exact_match"] = null; // not measured for this candidate
        setting["utility"] = u;
    }

    static string Markdown(JsonObject defences, string defaultSetting, string png)
    {
        var ci = CultureInfo.InvariantCulture;
        long volume = (long?)defences["compared_at_tokens"] ?? 0;
        double clean = (double?)defences["heldout_loss_clean"] ?? double.NaN;
        string Percent(double? v) => v is double d ? (100 * d).ToString("F1", ci) + " %" : "—";
        string Loss(double? l) => l is double v ? v.ToString("F3", ci) : "not measured";
        var sb = new StringBuilder();
        sb.AppendLine("## Defences: each candidate on both rulers");
        sb.AppendLine();
        sb.AppendLine($"Privacy: content tokens the strongest attack reads (streaming clustering + decipherment knowing the mechanism) at up to {volume:N0} observed " +
            $"tokens under one key, on the candidate's real traffic where measured, else on its oracle cipher. Utility: held-out loss after an equal " +
            $"STuning budget (`scripts/defence-utility`; clean whole model: {clean.ToString("F3", ci)}); the shipped demo bundles with their own tuning, against the " +
            $"one-table bundle (`--bundle`). Shipped default setting: `{defaultSetting}`.");
        sb.AppendLine();
        sb.AppendLine("| candidate | traffic attacked | content read | distinct identifiers read | held-out loss | against its baseline | total ε |");
        sb.AppendLine("| --- | --- | --- | --- | --- | --- | --- |");
        foreach (var c in defences["candidates"]?.AsArray() ?? new JsonArray())
        {
            string read = (double?)c!["content_read"] is double r ? $"{Percent(r)} at {(long?)c["at_tokens"]:N0}" : "not measured";
            string increase = (double?)c["heldout_loss_increase"] is double d ? (100 * d).ToString("+0.0;−0.0;0.0", ci) + " %" : "—";
            string epsilon = (double?)c["total_epsilon"] is double e ? e.ToString("G4", ci) : "—";
            sb.AppendLine($"| {c["candidate"]} | {(string?)c["privacy_setting"] ?? "—"} | {read} | {Percent((double?)c["distinct_identifiers_read"])} | {Loss((double?)c["heldout_loss"])} | {increase} | {epsilon} |");
        }
        sb.AppendLine();
        sb.AppendLine("Made by `noir attack defences --utility UTILITY.json --default SETTING --report …` (the runs: docs/privacy.md §10).");
        sb.AppendLine();
        sb.AppendLine($"![Privacy against utility, one point per candidate]({png})");
        return sb.ToString();
    }

    static void SavePlot(string path, IReadOnlyList<DefenceCandidate> candidates, long volume)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        int i = 0;
        // Utility as the loss increase over the same run without the candidate: the homophonic runs and the noise on the
        // demo bundle start from different baselines, so their raw losses do not compare.
        foreach (var c in candidates.Where(c => c.Privacy != null && c.LossIncrease != null))
        {
            var s = plot.Add.Scatter(new[] { c.Privacy!.ContentPositionAccuracy }, new[] { 100 * c.LossIncrease!.Value }, palette.GetColor(i++));
            s.LegendText = c.Name; s.MarkerSize = 10; s.LineWidth = 0;
        }
        var h = plot.Add.HorizontalLine(5, color: Colors.Gray, pattern: LinePattern.Dotted);
        h.LegendText = "+5 % held-out loss (issue 15's bound)";
        var v = plot.Add.VerticalLine(0.03, color: Colors.Gray, pattern: LinePattern.Dashed);
        v.LegendText = "3 % of content read";
        plot.Title($"Defence candidates: content read at ≤ {volume:N0} tokens against held-out loss");
        plot.XLabel("content position accuracy of the strongest attack (lower is more private)");
        plot.YLabel("held-out loss increase at equal tuning budget, % (lower is better)");
        plot.ShowLegend(Alignment.UpperCenter);
        plot.SavePng(path, 1000, 560);
    }
}
