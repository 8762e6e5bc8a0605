using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NoirCode.Attack.Evaluation;
using NoirCode.Attack.Metrics;

namespace NoirCode.Attack.Report;

/// <summary>What the report says about the run besides the numbers.</summary>
public sealed record ReportContext(string Model, string PublicSource, long PublicTokens, long InversionTokens, string PrivateSource,
    int PrivateItems, int MaxTokens, string Wire, double Seconds, string Machine, IReadOnlyList<string> Notes);

/// <summary>Writes docs/privacy-report.md and .json from the results of every setting.</summary>
public static class PrivacyReportWriter
{
    public const string BaselineName = "frequency-guess";

    public static JsonObject ToJson(ReportContext c, IReadOnlyList<SettingResult> settings, UtilityTable utility)
    {
        static JsonNode? R(double? v) => v is double d ? Math.Round(d, 4) : null;
        static JsonObject Part(PartSummary p) => new()
        {
            ["crt"] = R(p.Crt), ["bleu"] = R(p.Bleu), ["rouge1"] = R(p.Rouge1), ["asr"] = R(p.Asr),
            ["content_crt"] = R(p.ContentCrt), ["content_bleu"] = R(p.ContentBleu), ["content_rouge1"] = R(p.ContentRouge1),
            ["content_asr"] = R(p.ContentAsr), ["position_accuracy"] = R(p.PositionAccuracy),
            ["content_position_accuracy"] = R(p.ContentPositionAccuracy), ["items"] = p.Items,
        };
        var list = new JsonArray();
        foreach (var s in settings)
        {
            var attacks = new JsonObject();
            foreach (var a in s.Attacks)
                attacks[a.Attack] = new JsonObject
                {
                    // The headline figures (prompts x, as the paper's PromptRA table), then both parts in full.
                    ["crt"] = R(a.Prompt.Crt), ["asr"] = R(a.Prompt.Asr), ["bleu"] = R(a.Prompt.Bleu), ["rouge1"] = R(a.Prompt.Rouge1),
                    ["leak"] = R(a.Leak), ["leak_items"] = R(a.LeakItems),
                    ["prompt"] = Part(a.Prompt), ["code"] = Part(a.Code), ["description"] = a.Description,
                };
            list.Add(new JsonObject
            {
                ["setting"] = s.Setting, ["epsilon"] = R(s.Epsilon), ["keys"] = s.Keys, ["tuned"] = s.Tuned,
                ["utility"] = new JsonObject { ["infill_exact_match"] = R(utility.ExactMatch(s.Setting)) },
                ["tokens"] = s.Tokens, ["clusters"] = s.Clusters, ["cluster_purity"] = R(s.ClusterPurity),
                ["cluster_completeness"] = R(s.ClusterCompleteness), ["merge_threshold"] = R(s.MergeThreshold),
                ["solver_objective_truth"] = s.SolverObjective is { } so ? Math.Round(so.Truth, 1) : null,
                ["solver_objective_found"] = s.SolverObjective is { } sf ? Math.Round(sf.Found, 1) : null,
                ["attacks"] = attacks,
            });
        }
        return new JsonObject
        {
            ["format"] = "noir-privacy-report/1",
            ["model"] = c.Model, ["public_data"] = c.PublicSource, ["public_tokens"] = c.PublicTokens,
            ["inversion_training_tokens"] = c.InversionTokens, ["private_set"] = c.PrivateSource, ["private_items"] = c.PrivateItems,
            ["max_tokens_per_item"] = c.MaxTokens, ["wire"] = c.Wire, ["seconds"] = Math.Round(c.Seconds, 1), ["machine"] = c.Machine,
            ["thresholds"] = new JsonObject { ["bleu"] = ReconstructionScore.BleuThreshold, ["rouge1"] = ReconstructionScore.RougeThreshold },
            ["utility_source"] = utility.Source, ["notes"] = new JsonArray(c.Notes.Select(n => (JsonNode)n).ToArray()),
            ["settings"] = list,
        };
    }

    /// <summary>What other commands added to a report (the volume curves, the STuning figures) survives a rewrite:
    /// top-level fields and per-setting fields the fresh report lacks are copied from the old one.</summary>
    public static void KeepAdditions(JsonObject fresh, JsonObject old)
    {
        foreach (var (key, value) in old) if (!fresh.ContainsKey(key) && value != null) fresh[key] = value.DeepClone();
        var settings = fresh["settings"]!.AsArray();
        foreach (var before in old["settings"]?.AsArray().OfType<JsonObject>() ?? Enumerable.Empty<JsonObject>())
        {
            var now = settings.OfType<JsonObject>().FirstOrDefault(s => (string?)s["setting"] == (string?)before["setting"]);
            if (now == null) { settings.Add(before.DeepClone()); continue; }
            foreach (var (key, value) in before) if (!now.ContainsKey(key) && value != null) now[key] = value.DeepClone();
        }
    }

    public static void WriteJson(string path, JsonObject report) =>
        File.WriteAllText(path, report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");

    public static string Markdown(ReportContext c, IReadOnlyList<SettingResult> settings, UtilityTable utility, string? plotFile)
    {
        var ci = CultureInfo.InvariantCulture;
        string F(double v) => v.ToString("0.000", ci);
        string P(double? v) => v is double d ? d.ToString("0.000", ci) : "–";
        var sb = new StringBuilder();
        sb.AppendLine("# Privacy report: what an honest-but-curious cloud recovers");
        sb.AppendLine();
        sb.AppendLine($"Generated by `noir attack` on `{c.Model}` ({c.PrivateItems} private items from {c.PrivateSource}, at most {c.MaxTokens} tokens each; " +
            $"wire {c.Wire}; public code: {c.PublicTokens:N0} tokens from `{c.PublicSource}`, {c.InversionTokens:N0} of them run through the public encoder " +
            $"to train the inversions). Run time {c.Seconds:F0} s on {c.Machine}.");
        sb.AppendLine();
        if (plotFile != null) { sb.AppendLine($"![privacy and utility per setting]({plotFile})"); sb.AppendLine(); }
        sb.AppendLine("## Summary per setting (best attack, prompts x)");
        sb.AppendLine();
        sb.AppendLine("| setting | ε | keys | tuned | utility (infill EM) | best CRT_x | best content CRT_x | frequency-guess content CRT_x | best ASR_x | best content ASR_x | best CRT_y | best leak | cluster purity |");
        sb.AppendLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var s in settings)
        {
            var real = s.Attacks.Where(a => a.Attack != BaselineName).ToList();
            var baseline = s.Attacks.FirstOrDefault(a => a.Attack == BaselineName);
            string Best(Func<AttackSummary, double> f) => real.Count == 0 ? "–" : $"{F(real.Max(f))} ({real.MaxBy(f)!.Attack})";
            sb.AppendLine($"| {s.Setting} | {(s.Epsilon is double e ? e.ToString(ci) : "–")} | {(s.Keys ? "yes" : "no")} | {(s.Tuned ? "yes" : "no")} | " +
                $"{P(utility.ExactMatch(s.Setting))} | {Best(a => a.Prompt.Crt)} | {Best(a => a.Prompt.ContentCrt)} | {P(baseline?.Prompt.ContentCrt)} | " +
                $"{Best(a => a.Prompt.Asr)} | {Best(a => a.Prompt.ContentAsr)} | {Best(a => a.Code.Crt)} | {Best(a => a.Leak)} | {P(s.ClusterPurity)} |");
        }
        sb.AppendLine();
        foreach (var s in settings)
        {
            sb.AppendLine($"## {s.Setting}");
            sb.AppendLine();
            sb.Append($"{s.Tokens:N0} tokens sent.");
            if (s.Clusters > 0)
                sb.Append($" Clustering (merge threshold {P(s.MergeThreshold)} chosen on the attacker's own simulation): {s.Clusters} clusters, " +
                    $"purity {P(s.ClusterPurity)}, completeness {P(s.ClusterCompleteness)} (diagnostics that use the true tokens: purity is the share " +
                    "of positions a perfect naming of the clusters would recover, completeness the share that sits in its token's largest cluster).");
            if (s.SolverObjective is { } so)
                sb.Append($" Bigram solver objective: {so.Found:F0} for the naming it found, {so.Truth:F0} for the true naming" +
                    (so.Truth > so.Found ? " (the true naming scores higher: a better search would recover more)." : " (the public statistics prefer a wrong naming)."));
            sb.AppendLine();
            sb.AppendLine();
            sb.AppendLine("| attack | CRT_x | BLEU_x | ROUGE-1_x | ASR_x | content CRT_x | content ASR_x | pos. acc. x | CRT_y | BLEU_y | ROUGE-1_y | ASR_y | content CRT_y | content ASR_y | leak | leak items |");
            sb.AppendLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
            foreach (var a in s.Attacks)
                sb.AppendLine($"| {a.Attack} | {F(a.Prompt.Crt)} | {a.Prompt.Bleu.ToString("0.0", ci)} | {F(a.Prompt.Rouge1)} | {F(a.Prompt.Asr)} | {F(a.Prompt.ContentCrt)} | {F(a.Prompt.ContentAsr)} | {P(a.Prompt.PositionAccuracy)} | " +
                    $"{F(a.Code.Crt)} | {a.Code.Bleu.ToString("0.0", ci)} | {F(a.Code.Rouge1)} | {F(a.Code.Asr)} | {F(a.Code.ContentCrt)} | {F(a.Code.ContentAsr)} | {F(a.Leak)} | {F(a.LeakItems)} |");
            sb.AppendLine();
        }
        sb.AppendLine("## Notes");
        sb.AppendLine();
        foreach (var n in c.Notes) sb.AppendLine($"- {n}");
        return sb.ToString();
    }
}
