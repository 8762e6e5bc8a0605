using System.CommandLine;
using System.Text.Json.Nodes;
using NoirCode.Privacy.Keys;
using NoirCode.Privacy.Ledger;

namespace NoirCode.Cli.Commands;

/// <summary><c>noir privacy status</c> and <c>noir privacy ledger</c>: what the status bar will show, in a terminal.</summary>
public static class PrivacyCommands
{
    public static Command Create() => new("privacy", "Show privacy keys, guarantees and what has been sent to the cloud") { Status(), Ledger() };

    static Command Status()
    {
        var keys = new Option<string>("--keys") { Description = "key folder", Required = true };
        var budget = new Option<long?>("--budget") { Description = "exposure budget: tokens per period under this key" };
        var period = new Option<BudgetPeriod>("--period") { Description = "budget period", DefaultValueFactory = _ => BudgetPeriod.Day };
        var json = CommonOptions.Json();
        var cmd = new Command("status", "ε, the guarantees it gives, key age and exposure under a key set") { keys, budget, period, json };
        cmd.SetAction(r =>
        {
            var meta = PrivacyKeys.ReadMetadata(r.GetValue(keys)!);
            var ledger = new ExposureLedger(ExposureLedger.DefaultFolder());
            var sent = ledger.Sum(k => k.Key == meta.KeyId);
            var o = new JsonObject
            {
                ["key_id"] = meta.KeyId, ["label"] = meta.Label, ["demo"] = meta.Demo, ["epsilon"] = meta.Epsilon,
                ["vocab_size"] = meta.VocabSize, ["key_age_days"] = Math.Round(meta.Age(DateTimeOffset.UtcNow).TotalDays, 2),
                ["per_token_guess_bound"] = ExposureBounds.PerTokenGuess(meta.Epsilon, meta.VocabSize),
                ["prompt_bound_200_tokens"] = ExposureBounds.PromptReconstruction(meta.Epsilon, meta.VocabSize, 200),
                ["prompt_bound_vacuous"] = ExposureBounds.IsVacuous(ExposureBounds.PromptReconstruction(meta.Epsilon, meta.VocabSize, 200)),
                ["theorem1_holds"] = meta.Theorem1Holds, ["composed_epsilon"] = meta.ComposedEpsilon,
                ["statement"] = ExposureBounds.Describe(meta.Epsilon, meta.VocabSize),
                ["tokens_sent"] = sent.Tokens, ["bytes_sent"] = sent.Bytes, ["requests"] = sent.Requests,
            };
            if (r.GetValue(budget) is long limit)
            {
                var state = new ExposureBudget(limit, r.GetValue(period)).Evaluate(ledger, meta.KeyId);
                o["budget"] = new JsonObject { ["used"] = state.UsedTokens, ["limit"] = state.LimitTokens, ["fraction"] = state.Fraction, ["level"] = state.Level.ToString() };
            }
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
