using System.Text.Json.Nodes;
using NoirCode.Attack.Evaluation;
using NoirCode.Attack.Metrics;

namespace NoirCode.Attack.Report;

/// <summary>
/// Reads a privacy-report JSON back into results, so the Markdown and the figure can be rendered again with
/// utility figures that arrived later (<c>noir attack render</c>) without re-running the attacks.
/// </summary>
public static class PrivacyReportReader
{
    public static (ReportContext Context, List<SettingResult> Results) Read(string path)
    {
        if (!File.Exists(path)) throw new IOException($"report {path} does not exist");
        try
        {
            var o = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            if ((string?)o["format"] != "noir-privacy-report/1") throw new FormatException("not a noir privacy report");
            var context = new ReportContext((string)o["model"]!, (string)o["public_data"]!, (long)o["public_tokens"]!,
                (long)o["inversion_training_tokens"]!, (string)o["private_set"]!, (int)o["private_items"]!, (int)o["max_tokens_per_item"]!,
                (string)o["wire"]!, (double)o["seconds"]!, (string)o["machine"]!,
                o["notes"]!.AsArray().Select(n => (string)n!).ToList());
            // Settings that only noir attack volume or stuning measured have no per-prompt attacks: render keeps
            // them through the JSON (PrivacyReportWriter.KeepAdditions), not through the per-prompt tables.
            var results = o["settings"]!.AsArray().Where(n => n?["attacks"] != null).Select(n =>
            {
                var s = n!.AsObject();
                var attacks = s["attacks"]!.AsObject().Select(kv =>
                {
                    var a = kv.Value!.AsObject();
                    return new AttackSummary(kv.Key, (string)a["description"]!, Part(a["prompt"]!.AsObject()), Part(a["code"]!.AsObject()),
                        (double)a["leak"]!, (double)a["leak_items"]!);
                }).ToList();
                return new SettingResult((string)s["setting"]!, (double?)s["epsilon"], (bool)s["tuned"]!, (bool)s["keys"]!, attacks,
                    (double?)s["cluster_purity"], (int)s["clusters"]!, (long)s["tokens"]!)
                {
                    ClusterCompleteness = (double?)s["cluster_completeness"], MergeThreshold = (double?)s["merge_threshold"],
                    SolverObjective = s["solver_objective_truth"] is { } t && s["solver_objective_found"] is { } f ? ((double)t, (double)f) : null,
                };
            }).ToList();
            return (context, results);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or FormatException or NullReferenceException)
        {
            throw new IOException($"{path}: not a privacy report written by noir attack ({e.Message})");
        }
    }

    static PartSummary Part(JsonObject p) => new((double)p["crt"]!, (double)p["bleu"]!, (double)p["rouge1"]!, (double)p["asr"]!,
        (double)p["content_crt"]!, (double)p["content_bleu"]!, (double)p["content_rouge1"]!, (double)p["content_asr"]!,
        (double?)p["position_accuracy"], (double?)p["content_position_accuracy"], (int)p["items"]!);
}
