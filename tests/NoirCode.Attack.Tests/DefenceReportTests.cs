using System.Text.Json.Nodes;
using NoirCode.Attack.Report;

namespace NoirCode.Attack.Tests;

/// <summary>The defences section of the privacy report comes back from the JSON alone, as noir attack render
/// rewrites the Markdown (it was lost before).</summary>
public class DefenceReportTests
{
    [Test]
    public void TheDefencesSectionIsRenderedAgainFromTheJson()
    {
        string dir = Directory.CreateTempSubdirectory("defence-report-").FullName;
        string json = Path.Combine(dir, "report.json"), utility = Path.Combine(dir, "utility.json");
        File.WriteAllText(json, new JsonObject { ["settings"] = new JsonArray(new JsonObject { ["setting"] = "demo" }) }.ToJsonString());
        File.WriteAllText(utility, new JsonObject
        {
            ["clean_heldout_loss"] = 3.509,
            ["homophones"] = new JsonArray(
                new JsonObject { ["homophones"] = 1, ["epsilon"] = 13, ["heldout_loss"] = 8.172, ["total_epsilon"] = 13 },
                new JsonObject { ["homophones"] = 16, ["epsilon"] = 13, ["heldout_loss"] = 8.240, ["total_epsilon"] = 208 }),
        }.ToJsonString());
        DefenceReport.MergeInto(json, utility, "demo", 100_000);
        string md = Path.ChangeExtension(json, ".md");
        string merged = File.ReadAllText(md);
        Assert.That(merged, Does.Contain("| homophonic INDVocab, k = 16 | — | not measured | — | 8.240 | +0.8 % | 208 |"));
        Assert.That(merged, Does.Contain("Shipped default setting: `demo`"));

        File.WriteAllText(md, "# Privacy report\n");   // as noir attack render writes the main part anew
        DefenceReport.Restore(json);
        string restored = File.ReadAllText(md);
        Assert.That(restored, Does.StartWith("# Privacy report"));
        Assert.That(restored[restored.IndexOf("<!-- defences:start -->", StringComparison.Ordinal)..],
            Is.EqualTo(merged[merged.IndexOf("<!-- defences:start -->", StringComparison.Ordinal)..]), "the same section, from the JSON alone");
        Directory.Delete(dir, true);
    }

    [Test]
    public void TheShippedBundleGivesItsSettingTheUtilityTheIssueAsksForAgainstTheOneTableBundle()
    {
        string dir = Directory.CreateTempSubdirectory("defence-report-").FullName;
        string json = Path.Combine(dir, "report.json"), utility = Path.Combine(dir, "utility.json");
        var curve = new JsonArray(new JsonObject { ["tokens"] = 100_000, ["position_accuracy"] = 0.2, ["content_position_accuracy"] = 0.07, ["distinct_identifiers"] = 0.002 });
        File.WriteAllText(json, new JsonObject { ["settings"] = new JsonArray(new JsonObject { ["setting"] = "demo" }, new JsonObject { ["setting"] = "demo-k16", ["volume"] = curve }) }.ToJsonString());
        File.WriteAllText(utility, new JsonObject
        {
            ["clean_heldout_loss"] = 3.5,
            ["residual_noise"] = new JsonArray(new JsonObject { ["residual_noise"] = 0.0, ["heldout_loss"] = 4.0 }),
            ["bundles"] = new JsonArray(new JsonObject
            {
                ["setting"] = "demo-k16", ["homophones"] = 16, ["total_epsilon"] = 208, ["tuning_steps"] = 600,
                ["heldout_loss"] = 4.2, ["infill_exact_match"] = 0.005,
            }),
        }.ToJsonString());
        var candidates = DefenceReport.MergeInto(json, utility, "demo-k16", 100_000);

        var shipped = candidates.Single(c => c.PrivacySetting == "demo-k16");
        Assert.That(shipped.Name, Does.Contain("k = 16").And.Contain("the default"));
        Assert.That(shipped.Privacy!.ContentPositionAccuracy, Is.EqualTo(0.07));
        Assert.That(shipped.LossIncrease, Is.EqualTo(0.05).Within(1e-9), "against the one-table bundle (here its σ = 0 noise row): 4.2 / 4.0");
        var report = JsonNode.Parse(File.ReadAllText(json))!;
        Assert.That((string?)report["default"], Is.EqualTo("demo-k16"));
        var u = report["settings"]!.AsArray().Single(x => (string?)x!["setting"] == "demo-k16")!["utility"]!;
        Assert.That((double?)u["heldout_loss"], Is.EqualTo(4.2));
        Assert.That((double?)u["heldout_loss_clean"], Is.EqualTo(3.5));
        Assert.That((double?)u["infill_exact_match"], Is.EqualTo(0.005));
        Directory.Delete(dir, true);
    }
}
