using System.CommandLine;
using System.Text.Json.Nodes;
using NoirCode.Privacy.Keys;
using NoirCode.Privacy.Ledger;

namespace NoirCode.Cli.Commands;

/// <summary><c>noir privacy status</c> and <c>noir privacy ledger</c>: what the status bar will show, in a terminal.</summary>
public static class PrivacyCommands
{
    public static Command Create() => new("privacy", "Show privacy keys, guarantees and what has been sent to the cloud")
        { Status(), Ledger(), BudgetFromReportCommand.Create(), RotateKeysCommand.Create() };

    static Command Status()
    {
        var keys = new Option<string>("--keys") { Description = "key folder", Required = true };
        var model = new Option<string?>("--model") { Description = "the model (or client shard) the keys are for: its measured budget (exposure-budget.json) is the default" };
        var budget = new Option<long?>("--budget") { Description = "exposure budget: tokens under this key per period (overrides the measured budget)" };
        var period = new Option<BudgetPeriod?>("--period") { Description = "budget period of --budget (Day, Week, Month, Key; default Day)" };
        var json = CommonOptions.Json();
        var cmd = new Command("status", "The measured exposure of a key set against its budget, then ε and the bounds it gives under their assumption") { keys, model, budget, period, json };
        cmd.SetAction(r =>
        {
            string keysFolder = r.GetValue(keys)!;
            var meta = PrivacyKeys.ReadMetadata(keysFolder);
            var ledger = new ExposureLedger(ExposureLedger.DefaultFolder());
            var sent = ledger.Sum(k => k.Key == meta.KeyId);
            var measured = MeasuredBudget.ForKeys(meta, Path.GetDirectoryName(Path.GetFullPath(keysFolder).TrimEnd('/')), keysFolder, r.GetValue(model));
            var o = new JsonObject
            {
                ["key_id"] = meta.KeyId, ["label"] = meta.Label, ["demo"] = meta.Demo, ["epsilon"] = meta.Epsilon,
                ["key_age_days"] = Math.Round(meta.Age(DateTimeOffset.UtcNow).TotalDays, 2),
                ["tokens_sent"] = sent.Tokens, ["bytes_sent"] = sent.Bytes, ["requests"] = sent.Requests,
            };
            // A rotation's record: what was sent under the keys these replaced stays in the ledger, and stays read.
            if (Sidecar.KeyRotation.PreviousKeyId(keysFolder) is { } previous)
            {
                o["previous_key_id"] = previous;
                o["previous_key_tokens_sent"] = ledger.Sum(k => k.Key == previous).Tokens;
            }
            // The measured curve first: what the strongest attack we have reads, as a function of what was sent.
            if (measured is var (m, path))
            {
                o["measured_budget"] = new JsonObject
                {
                    ["tokens"] = m.Tokens, ["setting"] = m.Setting, ["threshold"] = m.Threshold, ["reached"] = m.Reached, ["file"] = path,
                    ["meaning"] = m.Meaning(),
                    ["curve"] = new JsonArray(m.Curve.Select(p => (JsonNode)$"{p.Tokens} tokens: {p.ContentRecovered:P1} of content read").ToArray()),
                };
            }
            else o["measured_budget"] = "none: no exposure-budget.json for these keys (give --model, or write one with noir privacy budget-from-report)";
            var chosen = r.GetValue(budget) is long limit ? new ExposureBudget(limit, r.GetValue(period) ?? BudgetPeriod.Day) : measured?.Budget.ToBudget(BudgetAction.Block);
            if (chosen != null)
            {
                var state = chosen.Evaluate(ledger, meta.KeyId);
                o["budget"] = new JsonObject
                {
                    ["used"] = state.UsedTokens, ["limit"] = state.LimitTokens, ["fraction"] = Math.Round(state.Fraction, 4), ["level"] = state.Level.ToString(),
                    ["period"] = chosen.Period.ToString(), ["source"] = r.GetValue(budget) != null ? "--budget" : "measured",
                };
            }
            // The bounds last, with the assumption they rest on stated: they are not guarantees about real code.
            o["bounds_assume"] = ExposureBounds.Assumption;
            o["per_token_guess_bound"] = ExposureBounds.PerTokenGuess(meta.TotalEpsilon, meta.VocabSize);
            o["prompt_bound_200_tokens"] = ExposureBounds.PromptReconstruction(meta.TotalEpsilon, meta.VocabSize, 200);
            o["prompt_bound_vacuous"] = ExposureBounds.IsVacuous(ExposureBounds.PromptReconstruction(meta.TotalEpsilon, meta.VocabSize, 200));
            o["theorem1_holds"] = meta.Theorem1Holds; o["composed_epsilon"] = meta.ComposedEpsilon; o["vocab_size"] = meta.VocabSize;
            o["homophones"] = meta.Homophones; o["total_epsilon"] = meta.TotalEpsilon; // k tables compose to k·ε
            o["statement"] = ExposureBounds.Describe(meta.TotalEpsilon, meta.VocabSize);
            if (r.GetValue(json)) CliJson.Print(o);
            else CliJson.PrintTable(o);
            return 0;
        });
        return cmd;
    }

    static Command Ledger()
    {
        var json = CommonOptions.Json();
        var cmd = new Command("ledger", "Tokens and bytes sent to the cloud per day, workspace and key") { json };
        cmd.SetAction(r =>
        {
            var ledger = new ExposureLedger(ExposureLedger.DefaultFolder());
            var rows = ledger.Totals().OrderBy(kv => kv.Key).Select(kv => (JsonNode)new JsonObject
            {
                ["day"] = kv.Key.Day, ["workspace"] = kv.Key.Workspace, ["key"] = kv.Key.Key,
                ["tokens"] = kv.Value.Tokens, ["bytes"] = kv.Value.Bytes, ["requests"] = kv.Value.Requests,
            }).ToArray();
            if (r.GetValue(json)) CliJson.Print(new JsonObject { ["folder"] = ledger.Folder, ["rows"] = new JsonArray(rows) });
            else
            {
                Console.WriteLine($"ledger: {ledger.Folder}");
                foreach (var row in rows) Console.WriteLine($"{row!["day"]}  workspace {row["workspace"]}  key {row["key"]}  {row["tokens"]} tokens  {row["bytes"]} bytes  {row["requests"]} requests");
            }
            return 0;
        });
        return cmd;
    }
}
