using System.CommandLine;
using System.Text.Json.Nodes;
using NoirCode.Attack.Attacks;
using NoirCode.Attack.Data;
using NoirCode.Attack.Evaluation;
using NoirCode.Attack.Report;
using NoirCode.Attack.Volume;
using NoirCode.Attack.Wire;
using NoirCode.Privacy.Keys;

namespace NoirCode.Cli.Commands;

/// <summary><c>noir attack</c>: measure what an honest-but-curious cloud recovers (the privacy report), and
/// <c>noir attack prompt</c>: the fast per-prompt security report.</summary>
public static class AttackCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model("the public model (whole model folder): what the attacker knows");
        var keys = new Option<string?>("--keys") { Description = "comma-separated privacy key folders (noir keygen), one setting each" };
        var epsilons = new Option<string?>("--epsilons") { Description = "comma-separated ε values: keys made in memory for this run (never saved), untuned" };
        var tuned = new Option<string?>("--tuned") { Description = "comma-separated tuned client shards (noir tune), one per --keys folder, in the same order" };
        var withUntuned = new Option<bool>("--with-untuned") { Description = "with --tuned: also attack each key set on the untuned public client" };
        var fclean = new Option<string?>("--fclean") { Description = "a client shard tuned without keys (fClean: split + STuning, no INDVocab/LTokenizer)" };
        var noUnprotected = new Option<bool>("--no-unprotected") { Description = "leave out the unprotected split (public model, no keys)" };
        var publicDir = new Option<string?>("--public") { Description = "folder of public .py code for the attacker (default: the python3 stdlib)" };
        var publicTokens = new Option<long>("--public-tokens") { Description = "public tokens for frequency statistics", DefaultValueFactory = _ => 1_000_000 };
        var inversionTokens = new Option<long>("--inversion-tokens") { Description = "public tokens run through the public encoder to train the inversions", DefaultValueFactory = _ => 100_000 };
        var epochs = new Option<int>("--inversion-epochs") { Description = "epochs of the learned inversion", DefaultValueFactory = _ => 3 };
        var privateFile = new Option<string?>("--private") { Description = "the private set, HumanEval format (default: shared/benchmarks/HumanEval.jsonl.gz)" };
        var limit = new Option<int?>("--limit") { Description = "attack only the first N private items" };
        var maxTokens = new Option<int>("--max-tokens") { Description = "tokens per private item (prompt then code)", DefaultValueFactory = _ => 512 };
        var proposals = new Option<long>("--solver-proposals") { Description = "proposals of the bigram substitution solver", DefaultValueFactory = _ => 2_000_000 };
        var utility = new Option<string?>("--utility") { Description = "JSON of setting name → infilling exact match (from noir eval infill)" };
        var output = new Option<string?>("--out") { Description = "write the report here (.md), with .json and .png beside it" };
        var split = CommonOptions.Split();
        var wire = new Option<string>("--wire") { Description = "wire format the client uses: f16, f32, bf16 or int8", DefaultValueFactory = _ => "f16" };
        var json = CommonOptions.Json();
        var cmd = new Command("attack", "Attack the split as an honest-but-curious cloud would and report what it recovers (privacy report)")
        {
            model, keys, epsilons, tuned, withUntuned, fclean, noUnprotected, publicDir, publicTokens, inversionTokens, epochs,
            privateFile, limit, maxTokens, proposals, utility, output, split, wire, json, Prompt(), Render(), VolumeCommand.Create(), StuningAttackCommand.Create(),
            StuningUtilityCommand.Create(), DefencesCommand.Create(), ClusteringCommand.Create(),
        };
        cmd.SetAction(r =>
        {
            string publicModel = r.GetValue(model)!;
            var settings = Settings(publicModel, r.GetValue(noUnprotected), r.GetValue(fclean), r.GetValue(keys), r.GetValue(tuned), r.GetValue(withUntuned),
                r.GetValue(epsilons));
            if (settings.Count == 0) throw new ArgumentException("nothing to attack: give --keys, --epsilons or --fclean, or drop --no-unprotected");
            var table = r.GetValue(utility) is { } u ? UtilityTable.Load(u) : UtilityTable.Empty();
            var options = new ReportOptions
            {
                PublicModel = publicModel, Settings = settings, PublicFolder = r.GetValue(publicDir), PublicTokens = Positive(r.GetValue(publicTokens), "--public-tokens"),
                InversionTokens = Positive(r.GetValue(inversionTokens), "--inversion-tokens"), InversionEpochs = (int)Positive(r.GetValue(epochs), "--inversion-epochs"),
                PrivateFile = r.GetValue(privateFile) ?? PrivateDocument.DefaultPath(), Limit = r.GetValue(limit),
                MaxTokens = (int)Positive(r.GetValue(maxTokens), "--max-tokens"), SolverProposals = r.GetValue(proposals),
                Split = CommonOptions.ParseSplit(r.GetValue(split)), Wire = ModelRuntimeOptions.ParseWire(r.GetValue(wire)!),
            };
            var (context, results) = ReportRun.Execute(options, CommonOptions.Progress());
            var report = PrivacyReportWriter.ToJson(context, results, table);
            if (r.GetValue(output) is { } md) Write(md, context, results, table);
            if (r.GetValue(json)) CliJson.Print(report);
            else if (r.GetValue(output) == null) Console.Out.Write(PrivacyReportWriter.Markdown(context, results, table, null));
            return 0;
        });
        return cmd;
    }

    /// <summary><c>noir attack prompt</c>: what the cloud could reconstruct from one prompt under this client's setting.</summary>
    static Command Prompt()
    {
        var model = CommonOptions.Model("the public model (whole model folder)");
        var client = new Option<string?>("--client") { Description = "the client that sends (a tuned shard); default: the public model" };
        var keys = new Option<string?>("--keys") { Description = "privacy keys the client runs under" };
        var text = new Option<string?>("--prompt") { Description = "the prompt text" };
        var file = new Option<string?>("--prompt-file") { Description = "read the prompt from this file" };
        var publicDir = new Option<string?>("--public") { Description = "folder of public .py code (default: the python3 stdlib)" };
        var publicTokens = new Option<long>("--public-tokens") { Description = "public tokens for the attacker's codebook", DefaultValueFactory = _ => 30_000 };
        var split = CommonOptions.Split();
        var json = CommonOptions.Json();
        var cmd = new Command("prompt", "Security report for one prompt: the cloud's reconstructions (inversion, code reconstruction) and scores")
            { model, client, keys, text, file, publicDir, publicTokens, split, json };
        cmd.SetAction(r =>
        {
            string prompt = r.GetValue(text) ?? (r.GetValue(file) is { } f ? File.ReadAllText(f) : throw new ArgumentException("give --prompt or --prompt-file"));
            string publicModel = r.GetValue(model)!;
            var spec = CommonOptions.ParseSplit(r.GetValue(split));
            long n = Positive(r.GetValue(publicTokens), "--public-tokens");
            using var knowledge = AttackerKnowledge.Build(publicModel, spec, t => PublicCorpus.Load(r.GetValue(publicDir), t, n), n,
                Protocol.WireDtype.Float16, CommonOptions.Progress());
            using var sender = ClientUnderTest.Load("client", r.GetValue(client) ?? publicModel, r.GetValue(keys), spec);
            var outcomes = new PromptSecurityReport(knowledge).Run(sender, prompt);
            var o = new JsonObject
            {
                ["tokens"] = outcomes[0].Score.Tokens,
                ["cloud_wins"] = outcomes.Any(x => x.Score.Win),
                ["cloud_wins_content"] = outcomes.Any(x => x.Score.ContentWin),
                ["attacks"] = new JsonArray(outcomes.Select(x => (JsonNode)new JsonObject
                {
                    ["attack"] = x.Attack, ["reconstruction"] = x.Reconstruction, ["crt"] = Math.Round(x.Score.Crt, 4),
                    ["content_crt"] = Math.Round(x.Score.ContentCrt, 4), ["bleu"] = Math.Round(x.Score.Bleu, 2), ["rouge1"] = Math.Round(x.Score.Rouge1, 4),
                    ["position_accuracy"] = x.Score.PositionAccuracy is double p ? Math.Round(p, 4) : null,
                    ["win"] = x.Score.Win, ["content_win"] = x.Score.ContentWin,
                    ["sensitive_items"] = x.SensitiveItems, ["sensitive_recovered"] = x.SensitiveRecovered,
                }).ToArray()),
            };
            if (r.GetValue(json)) CliJson.Print(o);
            else
                foreach (var x in outcomes)
                    Console.Out.WriteLine($"{x.Attack}: CRT {x.Score.Crt:F3} (content {x.Score.ContentCrt:F3}), BLEU {x.Score.Bleu:F1}, ROUGE-1 {x.Score.Rouge1:F3}, " +
                        $"{(x.Score.Win ? "cloud wins" : "cloud loses")}; sensitive items recovered {x.SensitiveRecovered}/{x.SensitiveItems}\n  {x.Reconstruction.Replace("\n", "\n  ")}");
            return 0;
        });
        return cmd;
    }

    /// <summary><c>noir attack render</c>: the Markdown and figure again from a report's JSON, e.g. with utility figures that came later.</summary>
    static Command Render()
    {
        var report = new Option<string>("--report") { Description = "the report JSON written by noir attack", Required = true };
        var utility = new Option<string?>("--utility") { Description = "JSON of setting name → infilling exact match (from noir eval infill)" };
        var output = new Option<string>("--out") { Description = "the report (.md) to write, with .json and .png beside it", Required = true };
        var cmd = new Command("render", "Render a privacy report again from its JSON, with utility figures") { report, utility, output };
        cmd.SetAction(r =>
        {
            var (context, results) = PrivacyReportReader.Read(r.GetValue(report)!);
            var table = r.GetValue(utility) is { } u ? UtilityTable.Load(u) : UtilityTable.Empty();
            Write(r.GetValue(output)!, context, results, table);
            return 0;
        });
        return cmd;
    }

    static void Write(string md, ReportContext context, List<SettingResult> results, UtilityTable table)
    {
        string stem = Path.ChangeExtension(md, null);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(md))!);
        PrivacyUtilityPlot.Save(stem + ".png", results, table);
        var json = PrivacyReportWriter.ToJson(context, results, table);
        if (File.Exists(stem + ".json")) PrivacyReportWriter.KeepAdditions(json, JsonNode.Parse(File.ReadAllText(stem + ".json"))!.AsObject());
        PrivacyReportWriter.WriteJson(stem + ".json", json);
        File.WriteAllText(md, PrivacyReportWriter.Markdown(context, results, table, Path.GetFileName(stem + ".png")));
        // The sections noir attack volume, stuning and defences added, again from the JSON.
        VolumeReport.Restore(stem + ".json");
        StuningReport.Restore(stem + ".json");
        DefenceReport.Restore(stem + ".json");
        Console.Error.WriteLine($"wrote {md}, {stem}.json and {stem}.png");
    }

    /// <summary>A key set's setting name in the privacy report ("demo-k16", "eps13-untuned", …), the same for every attack.</summary>
    internal static string SettingName(KeyMetadata meta, bool tuned) =>
        (meta.Demo ? "demo" : $"eps{meta.Epsilon:G}") + (meta.Homophones > 1 ? $"-k{meta.Homophones}" : "") + (tuned ? "" : "-untuned");

    /// <summary>The client settings a report attacks: the unprotected split, fClean, each key folder (tuned or on
    /// the public client) and fresh keys at each ε.</summary>
    internal static List<SettingSpec> Settings(string publicModel, bool noUnprotected, string? fclean, string? keys, string? tuned, bool withUntuned, string? epsilons, int homophones = 1, double residualNoise = 0)
    {
        var settings = new List<SettingSpec>();
        if (!noUnprotected) settings.Add(new SettingSpec("unprotected", publicModel, Tuned: false));
        if (fclean is { } clean) settings.Add(new SettingSpec("fclean", clean, Tuned: true));
        var keyFolders = List(keys);
        var tunedFolders = List(tuned);
        if (tunedFolders.Count > 0 && tunedFolders.Count != keyFolders.Count)
            throw new ArgumentException($"--tuned names {tunedFolders.Count} shards but --keys {keyFolders.Count} key folders; give one tuned shard per key folder");
        for (int i = 0; i < keyFolders.Count; i++)
        {
            var meta = PrivacyKeys.ReadMetadata(keyFolders[i]);
            if (tunedFolders.Count > 0)
            {
                settings.Add(new SettingSpec(SettingName(meta, tuned: true), tunedFolders[i], Tuned: true, KeysFolder: keyFolders[i]));
                if (withUntuned) settings.Add(new SettingSpec(SettingName(meta, tuned: false), publicModel, Tuned: false, KeysFolder: keyFolders[i]));
            }
            else settings.Add(new SettingSpec(SettingName(meta, tuned: false), publicModel, Tuned: false, KeysFolder: keyFolders[i]));
        }
        foreach (var e in List(epsilons))
        {
            if (!double.TryParse(e, System.Globalization.CultureInfo.InvariantCulture, out double eps) || !(eps > 0))
                throw new ArgumentException($"--epsilons must be positive numbers, not '{e}'");
            settings.Add(new SettingSpec($"eps{eps:G}{(homophones > 1 ? $"-k{homophones}" : "")}{(residualNoise > 0 ? $"-noise{residualNoise:G3}" : "")}-untuned", publicModel,
                Tuned: false, FreshEpsilon: eps, Homophones: homophones, ResidualNoise: residualNoise));
        }
        return settings;
    }

    internal static List<string> List(string? text) =>
        text == null ? new() : text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    internal static long Positive(long value, string name) => value > 0 ? value : throw new ArgumentException($"{name} must be positive");
}
