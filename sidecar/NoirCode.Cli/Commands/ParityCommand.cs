using System.CommandLine;
using System.Text.Json.Nodes;
using NoirCode.Core.Reference;

namespace NoirCode.Cli.Commands;

/// <summary><c>noir parity</c>: split vs unsplit vs float64 reference logits; exits non-zero above tolerance.</summary>
public static class ParityCommand
{
    public const int ParityFailed = 1;

    public static Command Create()
    {
        var model = CommonOptions.Model();
        var split = CommonOptions.Split();
        var steps = new Option<int>("--steps") { Description = "decode steps after the prefill", DefaultValueFactory = _ => 16 };
        var noReference = new Option<bool>("--no-reference") { Description = "skip the float64 reference (slow for large models)" };
        var json = CommonOptions.Json();
        var cmd = new Command("parity", "Check that split and unsplit logits agree, and that the engine matches an independent float64 implementation")
            { model, split, steps, noReference, json };
        cmd.SetAction(r =>
        {
            var report = ParityCheck.Run(r.GetValue(model)!, CommonOptions.ParseSplit(r.GetValue(split)), r.GetValue(steps),
                withReference: !r.GetValue(noReference), progress: CommonOptions.Progress());
            var o = new JsonObject
            {
                ["max_abs_diff"] = report.MaxAbsDiff,
                ["max_abs_diff_reference"] = report.MaxAbsDiffReference,
                ["max_abs_diff_kv_recompute"] = report.MaxAbsDiffKvRecompute,
                ["tolerance"] = report.Tolerance,
                ["tolerance_reference"] = report.ToleranceReference,
                ["split"] = report.Split.ToString(),
                ["prompt_tokens"] = report.PromptTokens,
                ["decode_steps"] = report.DecodeSteps,
                ["passed"] = report.Passed,
            };
            if (r.GetValue(json)) CliJson.Print(o);
            else CliJson.PrintTable(o);
            return report.Passed ? 0 : ParityFailed;
        });
        return cmd;
    }
}
