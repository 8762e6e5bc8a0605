using System.Text.Json.Nodes;
using NoirCode.Attack.Report;

namespace NoirCode.Attack.Tests;

/// <summary>The STuning part of the privacy report: per-step recovery with its defence, the utility table, and both
/// surviving a rewrite of the report by the main attack (PrivacyReportWriter.KeepAdditions).</summary>
public class StuningReportTests
{
    static JsonObject Run(string defence, double recovered) => new()
    {
        ["setting"] = "demo", ["steps"] = 2, ["batch"] = 2, ["seq"] = 64, ["learning_rate"] = 5e-4, ["defence"] = defence,
        ["stuning_labels"] = new JsonArray(Enumerable.Range(0, 2).Select(s => (JsonNode)new JsonObject
        {
            ["step"] = s, ["recovered"] = recovered, ["public_decoder"] = s == 0 ? recovered : null, ["shadow_decoder"] = recovered,
            ["client_decoder"] = recovered, ["labelled"] = 100,
        }).ToArray()),
        ["stuning_deciphered"] = null,
    };

    [Test]
    public void Each_setting_shows_its_defence_per_step_and_the_utility_table()
    {
        string dir = Directory.CreateTempSubdirectory("stuning-report-").FullName;
        string json = Path.Combine(dir, "report.json");
        StuningReport.MergeInto(json, "demo-undefended", Run("none", 1.0));
        StuningReport.MergeInto(json, "demo", Run("keep=0,noise=0 (default, forward-only)", 0.0));
        StuningReport.MergeUtility(json, "demo", new JsonObject
        {
            ["heldout_loss_untuned"] = 11.8, ["steps"] = 300, ["batch"] = 2, ["seq"] = 64, ["learning_rate"] = 5e-4, ["windows"] = 48,
            ["by_defence"] = new JsonArray(
                new JsonObject { ["defence"] = "none", ["heldout_loss"] = 6.8, ["last_tuning_loss"] = 5.1 },
                new JsonObject { ["defence"] = "keep=0,noise=0 (default, forward-only)", ["heldout_loss"] = 7.14, ["last_tuning_loss"] = 5.2 }),
        });
        var report = JsonNode.Parse(File.ReadAllText(json))!.AsObject();
        var demo = report["settings"]!.AsArray().Single(s => (string?)s!["setting"] == "demo")!;
        Assert.That((string?)demo["stuning_defence"], Is.EqualTo("keep=0,noise=0 (default, forward-only)"));
        Assert.That(demo["stuning_labels"]!.AsArray(), Has.Count.EqualTo(2), "the per-step array keeps its shape");
        string md = File.ReadAllText(Path.ChangeExtension(json, ".md"));
        Assert.That(md, Does.Contain("**demo-undefended**, defence none"));
        Assert.That(md, Does.Contain("| client's own decoder | 0.0 % | 0.0 % |"));
        Assert.That(md, Does.Contain("Over the run: 100.0 % of 200 labels"));
        Assert.That(md, Does.Contain("| keep=0,noise=0 (default, forward-only) | 7.140 | +5.0 % |"));

        // The main attack's rewrite keeps what this command added.
        var fresh = new JsonObject { ["settings"] = new JsonArray(new JsonObject { ["setting"] = "demo", ["crt"] = 0.1 }) };
        PrivacyReportWriter.KeepAdditions(fresh, report);
        var kept = fresh["settings"]!.AsArray().OfType<JsonObject>().ToList();
        Assert.That(kept.Single(s => (string?)s["setting"] == "demo")["stuning_utility"], Is.Not.Null);
        Assert.That(kept.Single(s => (string?)s["setting"] == "demo-undefended")["stuning_labels"], Is.Not.Null);
        Assert.That(StuningReport.Markdown(fresh), Does.Contain("What the label protection costs"));
    }
}
