using System.CommandLine;
using System.Text.Json.Nodes;
using NoirCode.Core.Model;
using NoirCode.Privacy.Keys;

namespace NoirCode.Cli.Commands;

/// <summary><c>noir keygen</c>: a private INDVocab + LTokenizer key set for one model.</summary>
public static class KeygenCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model("model folder (whole model or client shard) whose embedding the keys randomise");
        var epsilon = new Option<double>("--epsilon") { Description = "privacy budget ε (the paper's default is 13)", Required = true };
        var output = new Option<string>("--out") { Description = "new folder for the keys (created 0700, files 0600)", Required = true };
        var label = new Option<string>("--label") { Description = "a name for these keys", DefaultValueFactory = _ => "private" };
        var demo = new Option<bool>("--demo") { Description = "mark the keys as demo keys: for keys that are published (they then protect nothing); the status shows it" };
        var homophones = new Option<int?>("--homophones") { Description = $"embedding rows per token (homophonic INDVocab: k tables, one picked per occurrence, so a token stops arriving as one symbol); ε composes to k·ε; 1 to {PrivacyKeys.MaxHomophones}; default: {PrivacyKeys.DefaultHomophonesMost}, fewer if {PrivacyKeys.DefaultHomophonesMost} float32 tables would pass {PrivacyKeys.DefaultTablesBytes >> 20} MiB" };
        var publicSeed = new Option<string?>("--public-seed") { Description = "derive the keys from this text instead of the CSPRNG, so anyone can re-derive them (demo keys only, with --demo: a bundle ships keys.json alone)" };
        var allowWeak = new Option<bool>("--allow-below-theorem1") { Description = "write the keys even if ε is below the model's Theorem 1 minimum (the ε-IND guarantee then does not hold)" };
        var json = CommonOptions.Json();
        var cmd = new Command("keygen", "Generate privacy keys (INDVocab at ε, LTokenizer) for a model; they never leave this machine")
            { model, epsilon, output, label, demo, homophones, publicSeed, allowWeak, json };
        cmd.SetAction(r =>
        {
            string dir = r.GetValue(model)!, outDir = r.GetValue(output)!;
            double eps = r.GetValue(epsilon);
            if (!(eps > 0) || double.IsInfinity(eps)) throw new ArgumentException("--epsilon must be a positive number");
            if (r.GetValue(homophones) is int given && (given < 1 || given > PrivacyKeys.MaxHomophones)) throw new ArgumentException($"--homophones must be 1 to {PrivacyKeys.MaxHomophones}");
            if (r.GetValue(publicSeed) is { } seed && (!r.GetValue(demo) || seed.Length == 0))
                throw new ArgumentException("--public-seed makes keys anyone can re-derive: it needs --demo (and a non-empty text)");
            if (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any())
                throw new IOException($"key folder {outDir} is not empty; keys are never overwritten (choose a new folder)");
            var config = ModelConfig.Load(dir);
            int k = r.GetValue(homophones) ?? PrivacyKeys.DefaultHomophones(config);
            var (embedding, dtype) = PrivacyKeys.ReadEmbedding(dir, config);
            string fingerprint = ModelFingerprint.Of(dir);
            var (keys, stats) = PrivacyKeys.Generate(embedding, config, fingerprint, eps, r.GetValue(label)!, demo: r.GetValue(demo), progress: CommonOptions.Progress(), tableDtype: dtype, homophones: k, publicSeed: r.GetValue(publicSeed));
            if (!stats.Theorem1Holds && !r.GetValue(allowWeak))
                throw new ArgumentException($"ε = {eps} is below {stats.Theorem1MinEpsilon:G4}, the smallest ε for which Theorem 1's condition holds on this model's embedding (ε/m ≥ (Δmax − Δmin)/m on every feature); use --epsilon ≥ {Math.Ceiling(stats.Theorem1MinEpsilon * 100) / 100}, or --allow-below-theorem1");
            keys.Save(outDir);
            var o = new JsonObject
            {
                ["keys"] = Path.GetFullPath(outDir), ["key_id"] = keys.Metadata.KeyId, ["epsilon"] = eps, ["homophones"] = k, ["total_epsilon"] = keys.Metadata.TotalEpsilon,
                ["vocab_size"] = config.VocabSize, ["hidden_size"] = config.HiddenSize, ["model_fingerprint"] = fingerprint,
                ["keep_rate"] = stats.KeepRate, ["mean_l1"] = stats.MeanL1, ["theorem1_min_epsilon"] = stats.Theorem1MinEpsilon,
                ["theorem1_holds"] = stats.Theorem1Holds, ["composed_epsilon"] = stats.ComposedEpsilon, ["seconds"] = Math.Round(stats.Elapsed.TotalSeconds, 2),
            };
            if (r.GetValue(json)) CliJson.Print(o);
            else Console.WriteLine($"wrote keys {keys.Metadata.KeyId} (ε = {eps}{(k > 1 ? $" per table, {k} tables per token: {keys.Metadata.TotalEpsilon:G4} in all" : "")}, {config.VocabSize} × {config.HiddenSize}, keep rate {stats.KeepRate:G3}, mean L1 {stats.MeanL1:G4}, true ε of the table {stats.ComposedEpsilon:G4}) to {o["keys"]} in {stats.Elapsed.TotalSeconds:F1} s");
            return 0;
        });
        return cmd;
    }
}
