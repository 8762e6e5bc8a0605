using System.CommandLine;
using NoirCode.Attack.Report;

namespace NoirCode.Cli.Commands;

/// <summary><c>noir attack defences</c>: puts each defence candidate's measured privacy and utility side by side in a
/// privacy report, names the shipped default, and draws the frontier.</summary>
public static class DefencesCommand
{
    public static Command Create()
    {
        var utility = new Option<string>("--utility") { Description = "utility.json from scripts/defence-utility", Required = true };
        var defaultSetting = new Option<string>("--default") { Description = "the report setting the shipped configuration runs", Required = true };
        var volume = new Option<long>("--volume") { Description = "compare the candidates at this many observed tokens (their largest point up to it)", DefaultValueFactory = _ => 100_000 };
        var report = new Option<string>("--report") { Description = "the privacy report (.json) to add them to; its .md and a -frontier.png beside it are rewritten", Required = true };
        var cmd = new Command("defences", "Each defence candidate's privacy (volume curves) beside its utility (equal tuning budget), the default, and the frontier")
            { utility, defaultSetting, volume, report };
        cmd.SetAction(r =>
        {
            string path = r.GetValue(report)!, utilityPath = r.GetValue(utility)!;
            foreach (var f in new[] { path, utilityPath })
                if (!File.Exists(f)) throw new IOException($"{f} does not exist");
            long at = AttackCommand.Positive(r.GetValue(volume), "--volume");
            var candidates = DefenceReport.MergeInto(path, utilityPath, r.GetValue(defaultSetting)!, at);
            foreach (var c in candidates)
                Console.WriteLine($"{c.Name}: {(c.Privacy is { } p ? $"{p.ContentPositionAccuracy:P1} of content at {p.Tokens:N0} tokens" : "privacy not measured")}, " +
                    $"held-out loss {(c.HeldoutLoss is double l ? l.ToString("F3") : "not measured")}");
            return 0;
        });
        return cmd;
    }
}
