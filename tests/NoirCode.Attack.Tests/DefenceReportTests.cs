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
}
