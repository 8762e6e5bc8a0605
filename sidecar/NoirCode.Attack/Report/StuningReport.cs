using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NoirCode.STuning;

namespace NoirCode.Attack.Report;

/// <summary>
/// The gradient attack's figures in the privacy report: per setting <c>stuning_labels</c> (share of labels recovered
/// at each step), <c>stuning_deciphered</c> and <c>stuning_run</c>, and a Markdown section between markers.
/// </summary>
public static class StuningReport
{
    const string Start = "<!-- stuning:start -->", End = "<!-- stuning:end -->";

    public static void MergeInto(string reportJson, string setting, JsonObject result)
    {
        var report = File.Exists(reportJson) ? JsonNode.Parse(File.ReadAllText(reportJson))!.AsObject() : new JsonObject { ["settings"] = new JsonArray() };
        var settings = report["settings"]!.AsArray();
        var entry = settings.FirstOrDefault(s => (string?)s?["setting"] == setting)?.AsObject();
        if (entry == null) { entry = new JsonObject { ["setting"] = setting }; settings.Add(entry); }
        entry["stuning_labels"] = result["stuning_labels"]!.DeepClone();
        if (result["stuning_deciphered"] is JsonNode d) entry["stuning_deciphered"] = d.DeepClone(); else entry.Remove("stuning_deciphered");
        entry["stuning_defence"] = result["defence"]?.DeepClone() ?? "none";
        entry["stuning_run"] = new JsonObject
        {
            ["steps"] = result["steps"]!.DeepClone(), ["batch"] = result["batch"]!.DeepClone(), ["seq"] = result["seq"]!.DeepClone(),
            ["learning_rate"] = result["learning_rate"]!.DeepClone(),
            ["tuning_loss"] = result["tuning_loss"]?.DeepClone(), ["tuning_seconds"] = result["tuning_seconds"]?.DeepClone(),
            ["attack_seconds"] = result["attack_seconds"]?.DeepClone(),
        };
        File.WriteAllText(reportJson, report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        MarkdownSections.Write(Path.ChangeExtension(reportJson, ".md"), Start, End, Markdown(report));
    }

    /// <summary>Adds <c>stuning_utility</c> (held-out loss after equal runs per label protection) to a setting and
    /// renders the section again.</summary>
    public static void MergeUtility(string reportJson, string setting, JsonObject utility)
    {
        var report = File.Exists(reportJson) ? JsonNode.Parse(File.ReadAllText(reportJson))!.AsObject() : new JsonObject { ["settings"] = new JsonArray() };
        var settings = report["settings"]!.AsArray();
        var entry = settings.FirstOrDefault(s => (string?)s?["setting"] == setting)?.AsObject();
        if (entry == null) { entry = new JsonObject { ["setting"] = setting }; settings.Add(entry); }
        entry["stuning_utility"] = utility.DeepClone();
        File.WriteAllText(reportJson, report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        MarkdownSections.Write(Path.ChangeExtension(reportJson, ".md"), Start, End, Markdown(report));
    }

    /// <summary>After <c>noir attack render</c> rewrote a report's Markdown: this section again, from the JSON.</summary>
    public static void Restore(string reportJson) =>
        MarkdownSections.Write(Path.ChangeExtension(reportJson, ".md"), Start, End, Markdown(JsonNode.Parse(File.ReadAllText(reportJson))!.AsObject()));

    /// <summary>The section for every setting of the report that has STuning figures ("" when none has).</summary>
    public static string Markdown(JsonObject report)
    {
        // Read numbers as a parsed report does: in-memory values keep their CLR type (an int will not cast to long).
        report = JsonNode.Parse(report.ToJsonString())!.AsObject();
        var withLabels = report["settings"]?.AsArray().Select(s => s!.AsObject()).Where(s => s["stuning_labels"] != null).ToList() ?? new();
        var withUtility = report["settings"]?.AsArray().Select(s => s!.AsObject()).Where(s => s["stuning_utility"] != null).ToList() ?? new();
        if (withLabels.Count == 0 && withUtility.Count == 0) return "";
        var ci = CultureInfo.InvariantCulture;
        string P(JsonNode? v) => v is null ? "not run" : ((double)v * 100).ToString("F1", ci) + " %";
        var sb = new StringBuilder();
        sb.AppendLine("## STuning's gradients: labels the endpoint recovers, step by step");
        sb.AppendLine();
        sb.AppendLine("The real `SplitFineTuner` under the setting's keys against a real endpoint on loopback; the attack holds what the " +
            "endpoint holds (its middle outputs, the boundary gradients captured at the client's egress guard). *Public*: the public " +
            "decoder and head (the client's own at step 0). *Shadow*: the public decoder, trained by the cloud after each step on the " +
            "labels it recovered. *Client's own*: the client's decoder and head of that very step, which no cloud has (an upper bound " +
            "for any decoder the cloud can build). Each decoder's figure is the better of two solves (exact back-substitution; the " +
            "scale-free direction match of each row). Share of labelled positions recovered exactly (cipher symbols of the LTokenizer, in order). " +
            "*Defence*: the tuner's label protection: none (the exact gradient); keep=0 (noir tune's default, forward-only: every row " +
            "sent is zero); keep=K,noise=S (the loss of a secret random share K of the positions, rows clipped to their median norm C, " +
            "Gaussian noise S·C per coordinate; docs/privacy.md §9.3). " +
            "Made by `noir attack stuning … --report` (the command of the committed run: docs/privacy.md §9.2).");
        foreach (var s in withLabels)
        {
            var run = s["stuning_run"]?.AsObject();
            var labels = s["stuning_labels"]!.AsArray();
            sb.AppendLine();
            sb.AppendLine($"**{s["setting"]}**, defence {s["stuning_defence"] ?? "none"} ({run?["steps"]} steps × {run?["batch"]} samples × {run?["seq"]} tokens, learning rate {run?["learning_rate"]})" +
                (run?["note"] is JsonNode note ? $"; {note}" : "") + ":");
            sb.AppendLine();
            sb.AppendLine("| step | " + string.Join(" | ", labels.Select(l => l!["step"]!.ToString())) + " |");
            sb.AppendLine("| --- |" + string.Concat(labels.Select(_ => " --- |")));
            sb.AppendLine("| best | " + string.Join(" | ", labels.Select(l => P(l!["recovered"]))) + " |");
            sb.AppendLine("| shadow decoder | " + string.Join(" | ", labels.Select(l => P(l!["shadow_decoder"]))) + " |");
            sb.AppendLine("| public decoder | " + string.Join(" | ", labels.Select(l => P(l!["public_decoder"]))) + " |");
            if (labels.Any(l => l!["client_decoder"] != null))
                sb.AppendLine("| client's own decoder | " + string.Join(" | ", labels.Select(l => P(l!["client_decoder"]))) + " |");
            var all = labels.Select(l => l!["recovered"] is JsonNode v ? (double)v : 0).ToList();
            long labelled = labels.Sum(l => (long?)l!["labelled"] ?? 0);
            double overall = labelled == 0 ? 0 : labels.Sum(l => ((double?)l!["recovered"] ?? 0) * ((long?)l!["labelled"] ?? 0)) / labelled;
            sb.AppendLine($"\nOver the run: {P(overall)} of {labelled:N0} labels (best variant per step); worst step {P(all.Count == 0 ? 0 : all.Max())}.");
            if (s["stuning_deciphered"] is JsonObject d)
                sb.AppendLine($"\nThe recovered label stream ({d["tokens"]} tokens) deciphered with the volume attack's decipherer: " +
                    $"{P(d["position_accuracy"])} of positions, {P(d["content_position_accuracy"])} of content tokens read (at this volume; see the oracle curve above for how that grows).");
        }
        foreach (var s in withUtility)
        {
            var u = s["stuning_utility"]!.AsObject();
            sb.AppendLine();
            sb.AppendLine($"**What the label protection costs** (setting {s["setting"]}): held-out next-token loss through the tuned client and the " +
                $"tenant's tuned middle after equal STuning runs ({u["steps"]} steps × {u["batch"]} samples × {u["seq"]} tokens, learning rate " +
                $"{u["learning_rate"]}, same seed and data; {u["windows"]} held-out windows; before tuning: {u["heldout_loss_untuned"]}). Made by `noir attack stuning-utility`.");
            sb.AppendLine();
            sb.AppendLine("| defence | held-out loss | change against none | mean tuning loss, last 10 steps |");
            sb.AppendLine("| --- | --- | --- | --- |");
            var rows = u["by_defence"]!.AsArray().Select(r => r!.AsObject()).ToList();
            double? none = rows.FirstOrDefault(r => (string?)r["defence"] == "none")?["heldout_loss"] is JsonNode n ? (double)n : null;
            foreach (var r in rows)
            {
                double loss = (double)r["heldout_loss"]!;
                string change = none is double b ? ((loss / b - 1) * 100).ToString("+0.0;-0.0;0.0", ci) + " %" : "–";
                sb.AppendLine($"| {r["defence"]} | {loss.ToString("F3", ci)} | {change} | {r["last_tuning_loss"]} |");
            }
        }
        return sb.ToString();
    }
}
