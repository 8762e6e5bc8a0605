using NoirCode.Attack.Attacks;
using NoirCode.Attack.Evaluation;
using NoirCode.Attack.Report;
using NoirCode.Attack.Wire;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Core.Util;

namespace NoirCode.Attack.Tests;

public class ReportTests
{
    [Test]
    public void The_report_round_trips_through_its_json_and_renders_a_png_with_utility()
    {
        using var client = new ClientUnderTest("unprotected", ClientModel.Load(AttackFixture.Model, SplitSpec.Default), keys: null);
        var evaluation = new PrivacyEvaluation(AttackFixture.Knowledge, new ICloudAttack[] { new FrequencyGuessBaseline(AttackFixture.Knowledge), AttackFixture.Nn }, new NullProgress());
        var results = new List<SettingResult> { evaluation.Run(client, AttackFixture.Private.Take(4).ToList(), null, tuned: false) };
        var context = new ReportContext("noir-coder-8m", "stdlib", 1000, 100, "HumanEval.jsonl.gz", 4, 256, "Float16", 1.0, "test", new[] { "a note" });
        string dir = Directory.CreateTempSubdirectory("noir-attack-report-").FullName;
        try
        {
            string json = Path.Combine(dir, "r.json");
            PrivacyReportWriter.WriteJson(json, PrivacyReportWriter.ToJson(context, results, UtilityTable.Empty()));
            var (readContext, readResults) = PrivacyReportReader.Read(json);
            Assert.That(readContext, Is.EqualTo(context).Using<ReportContext>((a, b) => a.Model == b.Model && a.Notes.SequenceEqual(b.Notes)));
            Assert.That(readResults[0].Attacks.Select(a => a.Attack), Is.EqualTo(new[] { "frequency-guess", "nn-inversion" }));
            Assert.That(readResults[0].Attacks[1].Prompt.Crt, Is.EqualTo(Math.Round(results[0].Attacks[1].Prompt.Crt, 4)));

            string utility = Path.Combine(dir, "u.json");
            File.WriteAllText(utility, """{"unprotected": {"exact_match": 0.025}}""");
            var table = UtilityTable.Load(utility);
            Assert.That(table.ExactMatch("unprotected"), Is.EqualTo(0.025));
            string md = PrivacyReportWriter.Markdown(readContext, readResults, table, "r.png");
            Assert.That(md, Does.Contain("| unprotected | – | no | no | 0.025 |"));
            string png = Path.Combine(dir, "r.png");
            PrivacyUtilityPlot.Save(png, readResults, table);
            var header = File.ReadAllBytes(png)[..8];
            Assert.That(header, Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Test]
    public void A_bad_utility_file_is_refused_with_its_name()
    {
        string file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, """{"eps13": "high"}""");
            Assert.That(() => UtilityTable.Load(file), Throws.TypeOf<IOException>().With.Message.Contains(Path.GetFileName(file)));
        }
        finally { File.Delete(file); }
    }

    [Test]
    public void The_per_prompt_report_shows_the_unprotected_prompt_to_the_cloud()
    {
        using var client = new ClientUnderTest("unprotected", ClientModel.Load(AttackFixture.Model, SplitSpec.Default), keys: null);
        var outcomes = new PromptSecurityReport(AttackFixture.Knowledge).Run(client, "import os\n\ndef list_files(folder):\n    return os.listdir(folder)\n");
        var nn = outcomes.Single(o => o.Attack == "nn-inversion");
        Assert.That(nn.Score.Win, Is.True);
        Assert.That(nn.Reconstruction, Does.Contain("list_files"));
        Assert.That(nn.SensitiveRecovered, Is.EqualTo(nn.SensitiveItems));
    }
}
