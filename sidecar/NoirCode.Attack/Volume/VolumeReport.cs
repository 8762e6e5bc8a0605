using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NoirCode.Attack.Decipherment;
using NoirCode.Attack.Report;
using ScottPlot;

namespace NoirCode.Attack.Volume;

/// <summary>
/// The volume curves in the privacy report: JSON fields beside the per-prompt results (<c>oracle</c>; per setting
/// <c>volume</c> and <c>tokens_to_compromise</c>), a Markdown section between markers, and a figure.
/// </summary>
public static class VolumeReport
{
    const string Start = "<!-- volume:start -->", End = "<!-- volume:end -->";

    public static JsonObject ToJson(VolumeResult r) => new()
    {
        ["public_data"] = r.PublicSource, ["public_tokens"] = r.PublicTokens, ["private_code"] = r.PrivateSource,
        ["private_tokens"] = r.PrivateTokens, ["window"] = r.Window, ["seconds"] = Math.Round(r.Seconds, 1), ["machine"] = r.Machine,
        ["oracle"] = VolumeCurve.PointsJson(r.Oracle),
        ["oracle_tokens_to_compromise"] = VolumeCurve.CompromiseJson(r.Oracle),
        ["settings"] = new JsonArray(r.Curves.Select(c => (JsonNode)c.ToJson()).ToArray()),
    };

    public static VolumeResult FromJson(JsonObject o) => new((string)o["public_data"]!, (long)o["public_tokens"]!, (string)o["private_code"]!,
        (long)o["private_tokens"]!, (int)o["window"]!, VolumeCurve.PointsFrom(o["oracle"]!.AsArray()),
        o["settings"]!.AsArray().Select(s => VolumeCurve.FromJson(s!.AsObject())).ToList(), (double)o["seconds"]!, (string)o["machine"]!);

    /// <summary>Adds the curves to a privacy report's JSON (top-level <c>oracle</c> and <c>volume_run</c>; per setting
    /// <c>volume</c> and <c>tokens_to_compromise</c>, adding settings the report lacks), rewrites its Markdown section
    /// and writes the figure beside it.</summary>
    public static void MergeInto(string reportJson, VolumeResult r)
    {
        var report = File.Exists(reportJson) ? JsonNode.Parse(File.ReadAllText(reportJson))!.AsObject() : new JsonObject { ["settings"] = new JsonArray() };
        // A later run adds to an earlier one: its settings replace those of the same name, the others stay, and
        // the oracle curve that reaches further is kept.
        if (report["volume_run"] is JsonObject earlier)
        {
            var before = FromJson(earlier);
            var curves = before.Curves.Where(c => r.Curves.All(n => n.Setting != c.Setting)).Concat(r.Curves).ToList();
            var oracle = before.Oracle.Count > 0 && (r.Oracle.Count == 0 || before.Oracle[^1].Tokens > r.Oracle[^1].Tokens) ? before.Oracle : r.Oracle;
            r = r with { Curves = curves, Oracle = oracle, Seconds = before.Seconds + r.Seconds };
            // The same private code read to different volumes: describe the run that read the most of it.
            if (before.PrivateTokens > r.PrivateTokens) r = r with { PrivateSource = before.PrivateSource, PrivateTokens = before.PrivateTokens };
        }
        report["oracle"] = VolumeCurve.PointsJson(r.Oracle);
        report["volume_run"] = ToJson(r);
        var settings = report["settings"]?.AsArray() ?? new JsonArray();
        report["settings"] = settings;
        foreach (var c in r.Curves)
        {
            var entry = settings.FirstOrDefault(s => (string?)s?["setting"] == c.Setting)?.AsObject();
            if (entry == null)
            {
                entry = new JsonObject { ["setting"] = c.Setting, ["epsilon"] = c.Epsilon, ["keys"] = c.Keys, ["tuned"] = c.Tuned };
                settings.Add(entry);
            }
            entry["volume"] = VolumeCurve.PointsJson(c.Points);
            entry["tokens_to_compromise"] = VolumeCurve.CompromiseJson(c.Points);
        }
        File.WriteAllText(reportJson, report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        string stem = Path.ChangeExtension(reportJson, null);
        SavePlot(stem + "-volume.png", r);
        MarkdownSections.Write(stem + ".md", Start, End, Markdown(r, Path.GetFileName(stem + "-volume.png")));
    }

    /// <summary>After <c>noir attack render</c> rewrote a report's Markdown: its volume section again, if the JSON has one.</summary>
    public static void Restore(string reportJson)
    {
        var report = JsonNode.Parse(File.ReadAllText(reportJson))!.AsObject();
        string stem = Path.ChangeExtension(reportJson, null);
        if (report["volume_run"] is JsonObject run)
            MarkdownSections.Write(stem + ".md", Start, End, Markdown(FromJson(run), Path.GetFileName(stem + "-volume.png")));
    }

    public static string Markdown(VolumeResult r, string? png)
    {
        var sb = new StringBuilder();
        string P(double v) => double.IsNaN(v) ? "not recorded" : (100 * v).ToString("F1", CultureInfo.InvariantCulture) + " %";
        string T(long? t) => t is long n ? n.ToString("N0", CultureInfo.InvariantCulture) : "not reached";
        sb.AppendLine("## Against volume: what the cloud reads after seeing N tokens under one key");
        sb.AppendLine();
        sb.AppendLine($"The attack: the cloud clusters every encoder output it receives in one streaming pass (leader clustering, threshold " +
            $"calibrated on its own simulated keys; where its simulation shows per-occurrence noise splitting tokens, Lloyd refinement of each " +
            $"prefix's clusters, and a decipherer that lets a token name as many symbols as the clusters split it into), then deciphers the cluster stream as a substitution cipher with a Kneser–Ney trigram model of " +
            $"public code ({r.PublicTokens:N0} tokens of {r.PublicSource}): symbols named most frequent first by their count and their " +
            $"bigrams with the symbols already named, then swaps decided by the exact trigram log-likelihood of the whole stream until stable. The private traffic is {r.PrivateTokens:N0} tokens of code the attacker never saw " +
            $"({r.PrivateSource}), sent as {r.Window}-token requests through each setting's real client and egress guard. " +
            $"Each volume is deciphered with what a cloud that had seen that much would have (`--naming best`, the default): a fresh solve, and one continued from its naming " +
            $"of the shorter prefix; the naming with the higher likelihood is kept (a point's `naming_from` in the JSON; a point without one was solved fresh only, " +
            $"before continuing existed, and is a weaker attack). Machine: {r.Machine}; the settings took " +
            $"{r.Curves.Sum(c => c.Seconds) / 60:F0} min in all (clustering, calibration and deciphering, on cores shared with other jobs).");
        sb.AppendLine();
        sb.AppendLine("**Proof of strength (oracle cipher):** the same private code with its token ids replaced by a random substitution the attacker made itself (no model involved).");
        sb.AppendLine();
        sb.AppendLine("| tokens seen | " + string.Join(" | ", r.Oracle.Select(p => p.Tokens.ToString("N0", CultureInfo.InvariantCulture))) + " |");
        sb.AppendLine("| --- |" + string.Concat(r.Oracle.Select(_ => " --- |")));
        sb.AppendLine("| positions read | " + string.Join(" | ", r.Oracle.Select(p => P(p.PositionAccuracy))) + " |");
        sb.AppendLine("| content tokens read | " + string.Join(" | ", r.Oracle.Select(p => P(p.ContentPositionAccuracy))) + " |");
        sb.AppendLine("| distinct identifiers read | " + string.Join(" | ", r.Oracle.Select(p => P(p.DistinctIdentifiers))) + " |");
        sb.AppendLine();
        sb.AppendLine("**Per setting** (content = identifiers, strings, numbers; an identifier counts as read when the cloud names most of its occurrences):");
        sb.AppendLine();
        var volumes = r.Curves.SelectMany(c => c.Points).Concat(r.Oracle).Select(p => p.Tokens).Distinct().Order().ToList();
        string Row(IReadOnlyList<DecipherScore> points) =>
            string.Join(" | ", volumes.Select(v => points.FirstOrDefault(p => p.Tokens == v) is { } p ? P(p.ContentPositionAccuracy) : "—"));
        string Compromise(IReadOnlyList<DecipherScore> points) =>
            string.Join(" | ", VolumeCurve.CompromiseLevels.Select(l => T(VolumeCurve.TokensToCompromise(points, l))));
        sb.AppendLine("| setting | clusters | purity | " + string.Join(" | ", volumes.Select(v => $"content @ {v:N0}")) +
            " | identifiers @ largest | tokens to 3 % | to 10 % | to 50 % |");
        sb.AppendLine("| --- | --- | --- |" + string.Concat(volumes.Select(_ => " --- |")) + " --- | --- | --- | --- |");
        foreach (var c in r.Curves)
            sb.AppendLine($"| {c.Setting} | {c.Clusters:N0} | {c.Purity:F3} | {Row(c.Points)} | {P(c.Points[^1].DistinctIdentifiers)} | {Compromise(c.Points)} |");
        if (r.Oracle.Count > 0)
            sb.AppendLine($"| oracle cipher | — | 1.000 | {Row(r.Oracle)} | {P(r.Oracle[^1].DistinctIdentifiers)} | {Compromise(r.Oracle)} |");
        sb.AppendLine();
        sb.AppendLine("\"Not reached\" means not within the volumes measured for that setting; the oracle row shows where a purely clustered cipher goes next.");
        sb.AppendLine();
        sb.AppendLine("Made by `noir attack volume … --report` (the commands and data of the committed run: docs/privacy.md §9.1).");
        if (png != null) { sb.AppendLine(); sb.AppendLine($"![Content recovery against observed tokens]({png})"); }
        return sb.ToString();
    }

    public static void SavePlot(string path, VolumeResult r)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        int i = 0;
        void Line(string label, IReadOnlyList<DecipherScore> points, LinePattern pattern)
        {
            if (points.Count == 0) return;
            var s = plot.Add.Scatter(points.Select(p => Math.Log10(p.Tokens)).ToArray(), points.Select(p => p.ContentPositionAccuracy).ToArray(), palette.GetColor(i++));
            s.LegendText = label; s.LinePattern = pattern; s.LineWidth = 2; s.MarkerSize = 6;
        }
        Line("oracle cipher (proof of strength)", r.Oracle, LinePattern.Dashed);
        foreach (var c in r.Curves) Line(c.Setting, c.Points, LinePattern.Solid);
        foreach (double level in VolumeCurve.CompromiseLevels)
        {
            var h = plot.Add.HorizontalLine(level, color: Colors.Gray, pattern: LinePattern.Dotted);
            h.LineWidth = 1;
        }
        var ticks = Enumerable.Range(3, 5).Select(e => (double)e).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks, ticks.Select(e => $"10^{e:F0}").ToArray());
        plot.Axes.SetLimits(2.9, 6.1, 0, 1);
        plot.Title("Content tokens the cloud reads, against tokens it has seen under one key");
        plot.XLabel("observed tokens (log scale)");
        plot.YLabel("content position accuracy");
        plot.ShowLegend(Alignment.UpperLeft);
        plot.SavePng(path, 1000, 560);
    }
}
