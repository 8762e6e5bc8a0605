using System.Text.Json.Nodes;
using NoirCode.Cli.Commands;
using NoirCode.Privacy.Keys;
using NoirCode.Privacy.Ledger;

namespace NoirCode.Cli.Tests;

/// <summary>
/// The default exposure budget comes from the privacy report's measured curve (the volume at which content recovery
/// passes 3 %), through noir privacy budget-from-report, into the exposure-budget.json files shipped with the model
/// and its demo bundle. When the report is re-measured and the files are not written again, this test fails.
/// </summary>
public class MeasuredBudgetTests
{
    static string Repository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "docs", "privacy-report.json"))) return dir.FullName;
        throw new DirectoryNotFoundException("docs/privacy-report.json above the test binaries");
    }

    [Test]
    public void TheShippedBudgetsAreTheReportsNumbers()
    {
        string repo = Repository(), report = Path.Combine(repo, "docs", "privacy-report.json");
        string model = Path.Combine(repo, "models", "noir-coder-8m");
        var reportJson = JsonNode.Parse(File.ReadAllText(report))!;
        // The demo bundle runs the report's shipped default; the model's general file is for one-table keys, and each
        // exposure-budget-kK.json for keys of K tables.
        int demoTables = PrivacyKeys.ReadMetadata(Path.Combine(model, "demo", "keys")).Homophones;
        var demo = MeasuredBudget.Load(Path.Combine(model, "demo", MeasuredBudget.FileNameFor(demoTables)));
        var keys = MeasuredBudget.Load(Path.Combine(model, MeasuredBudget.FileName));
        Assert.That(demo.Setting, Is.EqualTo((string?)reportJson["default"]), "the demo bundle's budget is the shipped default's curve");
        Assert.That(demo.Homophones, Is.EqualTo(demoTables), "measured for the demo keys' own tables");
        Assert.That(keys.Homophones, Is.EqualTo(1), "the general file is for one-table keys");
        var perTables = Directory.GetFiles(model, "exposure-budget-k*.json").Select(MeasuredBudget.Load).ToList();
        Assert.That(perTables.Select(b => MeasuredBudget.FileNameFor(b.Homophones)), Is.EquivalentTo(Directory.GetFiles(model, "exposure-budget-k*.json").Select(Path.GetFileName)),
            "each per-tables file is named for the tables of the keys it measured");
        foreach (var shipped in new[] { demo, keys }.Concat(perTables))
        {
            var derived = BudgetFromReportCommand.FromReportFile(report, shipped.Setting);
            string again = $"re-measured? write it again: noir privacy budget-from-report --report docs/privacy-report.json --setting {shipped.Setting} --out …";
            Assert.That(shipped.Tokens, Is.EqualTo(derived.Tokens), again);
            Assert.That(shipped.Curve, Is.EqualTo(derived.Curve), again);
            var ttc = reportJson["settings"]!.AsArray().Single(s => (string?)s!["setting"] == shipped.Setting)!["tokens_to_compromise"]!["0.03"];
            Assert.That(shipped.Tokens, Is.EqualTo((long?)ttc), "the report's own tokens_to_compromise at 3 %");
        }
    }

    [Test]
    public void TheBudgetIsWhereTheCurvePassesTheThresholdOrAFloorWhenItNeverDoes()
    {
        var report = Report(("fast", new[] { (1000L, 0.01), (10000L, 0.05), (100000L, 0.4) }), ("slow", new[] { (1000L, 0.0), (300000L, 0.02) }));
        var fast = BudgetFromReportCommand.FromReport(report, "sha", "fast", 0.03);
        Assert.That(fast.Reached, Is.True);
        Assert.That(fast.Tokens, Is.EqualTo(3162), "interpolated in log(tokens), as the report's tokens_to_compromise");
        Assert.That(fast.OtherLevels[0.1], Is.EqualTo(13895));
        Assert.That(fast.Meaning(), Does.Contain("3,162 tokens"));
        var slow = BudgetFromReportCommand.FromReport(report, "sha", "slow", 0.03);
        Assert.That(slow.Reached, Is.False);
        Assert.That(slow.Tokens, Is.EqualTo(300000), "the largest volume measured: a floor, said as such");
        Assert.That(slow.Meaning(), Does.Contain("not measured"));
        report["default"] = "slow";
        Assert.That(BudgetFromReportCommand.FromReport(report, "sha", null, 0.03).Setting, Is.EqualTo("slow"), "the report's default when no setting is named");
    }

    [Test]
    public void KeysTakeTheBudgetMeasuredForTheirNumberOfTablesElseTheOneTableBudget()
    {
        string root = Directory.CreateTempSubdirectory("noir-budget-k-").FullName;
        try
        {
            string keysFolder = Directory.CreateDirectory(Path.Combine(root, "keys")).FullName, model = Directory.CreateDirectory(Path.Combine(root, "model")).FullName;
            var report = Report(("one-table", new[] { (1000L, 0.01), (10000L, 0.05) }), ("k16", new[] { (1000L, 0.01), (100000L, 0.05) }));
            BudgetFromReportCommand.FromReport(report, "sha", "one-table", 0.03).Save(Path.Combine(model, MeasuredBudget.FileNameFor(1)));
            (BudgetFromReportCommand.FromReport(report, "sha", "k16", 0.03) with { Homophones = 16 }).Save(Path.Combine(model, MeasuredBudget.FileNameFor(16)));
            KeyMetadata Keys(int k) => new("id", "label", false, 13, 100, 8, "fp", DateTimeOffset.UtcNow, 1, 0.1, 1, 1) { Homophones = k };

            var k16 = MeasuredBudget.ForKeys(Keys(16), null, keysFolder, model)!.Value;
            Assert.That((k16.Budget.Setting, k16.Budget.Homophones, Path.GetFileName(k16.Path)), Is.EqualTo(("k16", 16, "exposure-budget-k16.json")));
            Assert.That(MeasuredBudget.ForKeys(Keys(1), null, keysFolder, model)!.Value.Budget.Setting, Is.EqualTo("one-table"));
            Assert.That(MeasuredBudget.ForKeys(Keys(4), null, keysFolder, model)!.Value.Budget.Setting, Is.EqualTo("one-table"),
                "no curve for 4 tables: the one-table budget, the smaller");
            Assert.That(MeasuredBudget.Load(k16.Path).Homophones, Is.EqualTo(16), "the number of tables survives the file");
            var early = BudgetFromReportCommand.FromReport(Report(("early", new[] { (10000L, 0.032), (30000L, 0.05) })), "sha", "early", 0.03);
            Assert.That(early.Meaning(), Does.Contain("smallest volume measured").And.Contain("at or before it"), "a curve that starts above the threshold says so");

            // A file whose name and content disagree on the tables is refused, not used.
            string wrong = Directory.CreateDirectory(Path.Combine(root, "wrong")).FullName;
            (BudgetFromReportCommand.FromReport(report, "sha", "k16", 0.03) with { Homophones = 16 }).Save(Path.Combine(wrong, MeasuredBudget.FileName));
            Assert.That(() => MeasuredBudget.ForKeys(Keys(1), null, wrong), Throws.InstanceOf<FormatException>().With.Message.Contains("16 tables"));
            var misnamed = NoirProcess.Run("privacy", "budget-from-report", "--report", Path.Combine(root, "any.json"), "--homophones", "16", "--out", Path.Combine(root, MeasuredBudget.FileName));
            Assert.That(misnamed.ExitCode, Is.Not.Zero);
            Assert.That(misnamed.Stderr, Does.Contain("exposure-budget-k16.json"));

            // A budget in the keys' own folder wins over the model's, whichever it is for.
            BudgetFromReportCommand.FromReport(report, "sha", "one-table", 0.03).Save(Path.Combine(keysFolder, MeasuredBudget.FileName));
            Assert.That(Path.GetDirectoryName(MeasuredBudget.ForKeys(Keys(16), null, keysFolder, model)!.Value.Path), Is.EqualTo(keysFolder));
        }
        finally { Directory.Delete(root, true); }
    }

    [Test]
    public void BadInputGetsAClearErrorAndNothingIsWritten()
    {
        string folder = Directory.CreateTempSubdirectory("noir-budget-").FullName;
        try
        {
            var report = Report(("fast", new[] { (1000L, 0.01), (10000L, 0.05) }));
            report["settings"]!.AsArray().Add(new JsonObject { ["setting"] = "nocurve" });
            Assert.That(() => BudgetFromReportCommand.FromReport(report, "sha", null, 0.03), Throws.ArgumentException.With.Message.Contains("--setting").And.Message.Contains("fast"));
            Assert.That(() => BudgetFromReportCommand.FromReport(report, "sha", "nocurve", 0.03), Throws.ArgumentException.With.Message.Contains("no volume curve"));
            Assert.That(() => BudgetFromReportCommand.FromReport(report, "sha", "nope", 0.03), Throws.ArgumentException.With.Message.Contains("no setting 'nope'"));
            string path = Path.Combine(folder, MeasuredBudget.FileName);
            var cli = NoirProcess.Run("privacy", "budget-from-report", "--report", Path.Combine(folder, "missing.json"), "--out", path);
            Assert.That(cli.ExitCode, Is.Not.Zero);
            Assert.That(File.Exists(path), Is.False);

            File.WriteAllText(path, "{\"format\": \"noir-exposure-budget/1\", \"setting\": \"demo\", \"tokens\": \"many\"}");
            Assert.That(() => MeasuredBudget.Load(path), Throws.InstanceOf<FormatException>().With.Message.Contains(path).And.Message.Contains("'tokens'"));
            File.WriteAllText(path, "not json");
            Assert.That(() => MeasuredBudget.Load(path), Throws.InstanceOf<FormatException>().With.Message.Contains("budget-from-report"));
            Assert.That(File.ReadAllText(path), Is.EqualTo("not json"), "a bad file is reported, never rewritten");
        }
        finally { Directory.Delete(folder, true); }
    }

    static JsonObject Report(params (string Name, (long Tokens, double Content)[] Points)[] settings) => new()
    {
        ["format"] = "noir-privacy-report/1", ["model"] = "test",
        ["settings"] = new JsonArray(settings.Select(s => (JsonNode)new JsonObject
        {
            ["setting"] = s.Name,
            ["volume"] = new JsonArray(s.Points.Select(p => (JsonNode)new JsonObject
            {
                ["tokens"] = p.Tokens, ["position_accuracy"] = p.Content, ["content_position_accuracy"] = p.Content, ["distinct_identifiers"] = null,
            }).ToArray()),
        }).ToArray()),
    };
}
