using System.CommandLine;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using NoirCode.Attack.Volume;
using NoirCode.Privacy.Ledger;

namespace NoirCode.Cli.Commands;

/// <summary>
/// <c>noir privacy budget-from-report</c>: the default exposure budget of a configuration, from the privacy report's
/// volume curve for that setting (the volume at which content recovery passes 3 %), into exposure-budget.json.
/// Run it after every re-measurement (<c>noir attack volume --report</c>); the sidecar reads the file.
/// </summary>
public static class BudgetFromReportCommand
{
    public static Command Create()
    {
        var report = new Option<string>("--report") { Description = "the privacy report (docs/privacy-report.json)", Required = true };
        var setting = new Option<string?>("--setting") { Description = "the report's setting to take the curve of (default: the report's `default`)" };
        var output = new Option<string>("--out") { Description = "where to write the budget: exposure-budget.json (one table) or exposure-budget-kK.json (K tables) beside the model, or in its demo bundle", Required = true };
        var homophones = new Option<int>("--homophones") { Description = "INDVocab tables per token of the setting's keys (the sidecar picks the file for the keys' own number: exposure-budget-kK.json)", DefaultValueFactory = _ => 1 };
        var threshold = new Option<double>("--threshold") { Description = "the share of content tokens read that the budget stops before", DefaultValueFactory = _ => MeasuredBudget.DefaultThreshold };
        var json = CommonOptions.Json();
        var cmd = new Command("budget-from-report", "Write the default exposure budget of a setting from the privacy report's measured volume curve") { report, setting, output, homophones, threshold, json };
        cmd.SetAction(r =>
        {
            int k = r.GetValue(homophones);
            if (k is < 1 or > Privacy.Keys.PrivacyKeys.MaxHomophones) throw new ArgumentException($"--homophones must be 1 to {Privacy.Keys.PrivacyKeys.MaxHomophones}, not {k}");
            string name = Path.GetFileName(r.GetValue(output)!);
            if (name != MeasuredBudget.FileNameFor(k))
                throw new ArgumentException($"a budget for keys with {k} table(s) is read from {MeasuredBudget.FileNameFor(k)}, not {name}: name --out so (or give --homophones for the keys it was measured on)");
            var budget = FromReportFile(r.GetValue(report)!, r.GetValue(setting), r.GetValue(threshold)) with { Homophones = k };
            budget.Save(r.GetValue(output)!);
            var o = new JsonObject { ["out"] = Path.GetFullPath(r.GetValue(output)!), ["setting"] = budget.Setting, ["homophones"] = budget.Homophones, ["tokens"] = budget.Tokens, ["reached"] = budget.Reached, ["meaning"] = budget.Meaning() };
            if (r.GetValue(json)) CliJson.Print(o); else CliJson.PrintTable(o);
            return 0;
        });
        return cmd;
    }

    public static MeasuredBudget FromReportFile(string path, string? setting, double threshold = MeasuredBudget.DefaultThreshold)
    {
        byte[] bytes = File.ReadAllBytes(path);
        JsonObject report;
        try { report = JsonNode.Parse(bytes)?.AsObject() ?? throw new FormatException("empty"); }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or FormatException)
        {
            throw new FormatException($"{path} is not a privacy report (JSON object): {e.Message}");
        }
        return FromReport(report, Convert.ToHexStringLower(SHA256.HashData(bytes)), setting, threshold, path);
    }

    /// <summary>The budget for <paramref name="setting"/> (or the report's default): the volume at which content
    /// recovery first reaches the threshold, by the report's own rule (<see cref="VolumeCurve.TokensToCompromise"/>).</summary>
    public static MeasuredBudget FromReport(JsonObject report, string reportSha256, string? setting, double threshold, string where = "the report")
    {
        if (threshold is <= 0 or >= 1) throw new ArgumentException($"--threshold must be a share between 0 and 1, not {threshold}");
        var settings = (report["settings"] as JsonArray)?.OfType<JsonObject>().ToList() ?? new List<JsonObject>();
        var withCurves = settings.Where(s => s["volume"] is JsonArray { Count: > 0 }).Select(s => (string?)s["setting"]).ToList();
        string name = setting ?? (string?)report["default"]
            ?? throw new ArgumentException($"{where} names no default setting; choose one with --setting ({Listing(withCurves)})");
        var entry = settings.FirstOrDefault(s => (string?)s["setting"] == name)
            ?? throw new ArgumentException($"{where} has no setting '{name}' ({Listing(withCurves)})");
        if (entry["volume"] is not JsonArray { Count: > 0 } volume)
            throw new ArgumentException($"{where} has no volume curve for '{name}' (measure it with noir attack volume --report; settings with curves: {Listing(withCurves)})");
        var points = VolumeCurve.PointsFrom(volume).OrderBy(p => p.Tokens).ToList();
        long? crossing = VolumeCurve.TokensToCompromise(points, threshold);
        return new MeasuredBudget
        {
            Setting = name, Threshold = threshold, Tokens = crossing ?? points[^1].Tokens, Reached = crossing != null,
            OtherLevels = VolumeCurve.CompromiseLevels.Where(l => l > threshold).ToDictionary(l => l, l => VolumeCurve.TokensToCompromise(points, l)),
            Curve = points.Select(p => new VolumePoint(p.Tokens, p.ContentPositionAccuracy, double.IsNaN(p.DistinctIdentifiers) ? null : p.DistinctIdentifiers)).ToList(),
            ReportSha256 = reportSha256, Model = (string?)report["model"],
        };
    }

    static string Listing(IEnumerable<string?> names) => names.Any() ? string.Join(", ", names) : "none has a volume curve";
}
