using System.CommandLine;
using System.Text.Json.Nodes;
using NoirCode.Evaluation;

namespace NoirCode.Cli.Commands;

/// <summary><c>noir eval infill</c>: HumanEval single-line infilling, locally, split, or through an endpoint with keys.</summary>
public static class EvalCommand
{
    public static Command Create() => new("eval", "Evaluate a model on benchmarks") { Infill(), Loss() };

    static Command Loss()
    {
        var runtime = new ModelRuntimeOptions();
        var data = new Option<string>("--data") { Description = "held-out text: a folder of *.py files, or a file of documents separated by NUL characters", Required = true };
        var windows = new Option<int>("--windows") { Description = "documents to measure (evenly spaced)", DefaultValueFactory = _ => 16 };
        var tokens = new Option<int>("--tokens") { Description = "tokens per window", DefaultValueFactory = _ => 256 };
        var json = CommonOptions.Json();
        var cmd = new Command("loss", "Next-token loss on held-out code through the configured path (local, split, endpoint, keys)") { data, windows, tokens, json };
        runtime.AddTo(cmd);
        cmd.SetAction(r =>
        {
            string path = r.GetValue(data)!;
            var docs = Directory.Exists(path)
                ? Directory.EnumerateFiles(path, "*.py", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Select(File.ReadAllText).ToList()
                : File.Exists(path) ? File.ReadAllText(path).Split('\0', StringSplitOptions.RemoveEmptyEntries).ToList()
                : throw new IOException($"{path} does not exist");
            using var model = runtime.Build(r);
            var result = HeldOutLoss.Run(model.Session, model.Tokenizer, docs, r.GetValue(windows), r.GetValue(tokens), CommonOptions.Progress());
            var o = new JsonObject
            {
                ["loss"] = Math.Round(result.Loss, 4), ["tokens"] = result.Tokens, ["windows"] = result.Windows, ["mode"] = model.Mode,
                ["seconds"] = Math.Round(result.Elapsed.TotalSeconds, 1),
            };
            if (r.GetValue(json)) CliJson.Print(o); else CliJson.PrintTable(o);
            return 0;
        });
        return cmd;
    }

    static Command Infill()
    {
        var runtime = new ModelRuntimeOptions();
        var data = new Option<string?>("--data") { Description = "a .jsonl(.gz) of infilling tasks (default: the shared HumanEval single-line infilling set)" };
        var limit = new Option<int?>("--limit") { Description = "evaluate only the first N tasks" };
        var order = new Option<string>("--fim") { Description = "prompt order: psm (prefix, suffix, middle) or spm (suffix first, as the editor sends it)", DefaultValueFactory = _ => "psm" };
        order.AcceptOnlyFromAmong("psm", "spm");
        var json = CommonOptions.Json();
        var cmd = new Command("infill", "HumanEval single-line infilling: exact match, edit similarity and pass@1 (tests run isolated)") { data, limit, order, json };
        runtime.AddTo(cmd);
        cmd.SetAction(r =>
        {
            string path = r.GetValue(data) ?? DefaultData();
            var tasks = InfillTask.Load(path);
            if (r.GetValue(limit) is int n) tasks = tasks.Take(n).ToList();
            if (tasks.Count == 0) throw new ArgumentException("no tasks to evaluate");
            using var model = runtime.Build(r);
            bool spm = r.GetValue(order) == "spm";
            var result = InfillBenchmark.Run(model.Session, model.Tokenizer, model.MaxPositions, tasks, CommonOptions.Progress(), suffixFirst: spm);
            var o = new JsonObject
            {
                ["exact_match"] = Math.Round(result.ExactMatch, 4),
                ["edit_similarity"] = Math.Round(result.EditSimilarity, 4),
                ["pass_at_1"] = Math.Round(result.PassAt1, 4),
                ["n"] = result.N,
                ["mode"] = model.Mode,
                ["fim"] = spm ? "spm" : "psm",
                ["data"] = Path.GetFileName(path),
                ["seconds"] = Math.Round(result.Elapsed.TotalSeconds, 1),
                ["tests_network_isolated"] = result.NetworkIsolated,
            };
            if (r.GetValue(json)) CliJson.Print(o); else CliJson.PrintTable(o);
            return 0;
        });
        return cmd;
    }

    /// <summary>The shared benchmark beside the repository (../shared/benchmarks), found from here or from the binary.</summary>
    static string DefaultData()
    {
        const string name = "HumanEval-SingleLineInfilling.jsonl.gz";
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "shared", "benchmarks", name);
                if (File.Exists(candidate)) return candidate;
            }
        throw new IOException($"could not find shared/benchmarks/{name}; pass --data FILE");
    }
}
