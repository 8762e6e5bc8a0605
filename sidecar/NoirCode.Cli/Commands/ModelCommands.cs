using System.CommandLine;
using System.Text.Json.Nodes;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Core.Tokenization;
using NoirCode.Core.Weights;

namespace NoirCode.Cli.Commands;

/// <summary><c>noir model init-random</c>, <c>noir model info</c> and <c>noir model export-gguf</c>.</summary>
public static class ModelCommands
{
    public static Command Create() => new("model", "Create or inspect model folders") { InitRandom(), Info(), ExportGguf() };

    static Command InitRandom()
    {
        var preset = new Option<string>("--preset") { Description = "shape: " + string.Join("; ", RandomModelFactory.Presets.Select(p => $"{p.Key} ({p.Value})")), DefaultValueFactory = _ => "tiny" };
        var output = new Option<string>("--out") { Description = "folder to create (must be new or empty)", Required = true };
        var seed = new Option<int>("--seed") { Description = "random seed", DefaultValueFactory = _ => 1 };
        var dtype = new Option<string>("--dtype") { Description = "stored weight dtype: f32, f16 or bf16", DefaultValueFactory = _ => "f32" };
        var json = CommonOptions.Json();
        var cmd = new Command("init-random", "Write a real HF-format model folder with random weights (for tests and checks)") { preset, output, seed, dtype, json };
        cmd.SetAction(r =>
        {
            string stored = TensorBytes.ToDtypeName(TensorBytes.ParseDtype(r.GetValue(dtype)!));
            var config = RandomModelFactory.Create(r.GetValue(output)!, r.GetValue(preset)!, r.GetValue(seed), stored);
            var summary = new JsonObject { ["folder"] = Path.GetFullPath(r.GetValue(output)!), ["preset"] = r.GetValue(preset), ["layers"] = config.NumLayers, ["vocab_size"] = config.VocabSize, ["dtype"] = stored };
            if (r.GetValue(json)) CliJson.Print(summary);
            else Console.WriteLine($"wrote a random {r.GetValue(preset)} model ({config.NumLayers} layers, vocab {config.VocabSize}, {stored}) to {summary["folder"]}");
            return 0;
        });
        return cmd;
    }

    static Command ExportGguf()
    {
        var folder = new Argument<string>("folder") { Description = "a whole model folder (Hugging Face layout)" };
        var output = new Option<string>("--out") { Description = "the .gguf file to write", Required = true };
        var dtype = new Option<string>("--dtype") { Description = "matrix type in the file: f32, f16 or bf16 (norms and biases stay f32)", DefaultValueFactory = _ => "f32" };
        var json = CommonOptions.Json();
        var cmd = new Command("export-gguf", "Write the model as one GGUF file for llama.cpp and Ollama (llama or qwen2 architecture, byte-level BPE vocabulary)") { folder, output, dtype, json };
        cmd.SetAction(r =>
        {
            string file = Path.GetFullPath(r.GetValue(output)!);
            GgufExport.Write(r.GetValue(folder)!, file, r.GetValue(dtype)!);
            var summary = new JsonObject { ["file"] = file, ["bytes"] = new FileInfo(file).Length, ["dtype"] = r.GetValue(dtype)!.ToLowerInvariant() };
            if (r.GetValue(json)) CliJson.Print(summary);
            else Console.WriteLine($"wrote {file} ({new FileInfo(file).Length / 1e6:F1} MB)");
            return 0;
        });
        return cmd;
    }

    static Command Info()
    {
        var folder = new Argument<string>("folder") { Description = "model folder" };
        var json = CommonOptions.Json();
        var fingerprint = new Option<bool>("--fingerprint") { Description = "also hash every weight (reads the whole model)" };
        var cmd = new Command("info", "Describe a model folder: shape, parameters, tokenizer, FIM support, shard role") { folder, json, fingerprint };
        cmd.SetAction(r =>
        {
            string dir = r.GetValue(folder)!;
            var config = ModelConfig.Load(dir);
            var weights = WeightFolder.Open(dir);
            var tokenizer = CodeTokenizer.Load(dir, config.EosTokenIds);
            var manifest = ShardManifest.TryLoad(dir);
            long parameters = weights.Entries.Sum(e => e.ElementCount);
            var info = new JsonObject
            {
                ["architecture"] = config.Architecture,
                ["layers"] = config.NumLayers,
                ["hidden_size"] = config.HiddenSize,
                ["intermediate_size"] = config.IntermediateSize,
                ["heads"] = config.NumHeads,
                ["kv_heads"] = config.NumKvHeads,
                ["head_dim"] = config.HeadDim,
                ["vocab_size"] = config.VocabSize,
                ["tokenizer_ids"] = tokenizer.IdCount,
                ["max_positions"] = config.MaxPositions,
                ["rope_theta"] = config.RopeTheta,
                ["rope_scaling"] = config.RopeScaling?.Type,
                ["tied_embeddings"] = config.TieWordEmbeddings,
                ["qkv_bias"] = config.QkvBias,
                ["parameters"] = parameters,
                ["weight_dtypes"] = new JsonArray(weights.Entries.Select(e => e.Dtype).Distinct().Order().Select(d => (JsonNode)d).ToArray()),
                ["weight_files"] = weights.Entries.Select(e => e.FilePath).Distinct().Count(),
                ["fim"] = tokenizer.Fim?.Name,
                ["end_tokens"] = new JsonArray(tokenizer.EndTokens.Order().Select(i => (JsonNode)i).ToArray()),
                ["shard"] = manifest == null ? null : new JsonObject { ["role"] = manifest.Role, ["split"] = manifest.Split.ToString(), ["model_fingerprint"] = manifest.ModelFingerprint },
                ["default_split"] = manifest == null && config.NumLayers >= 3 ? SplitSpec.Default.ClipFor(config.NumLayers).ToString() : null,
            };
            if (r.GetValue(fingerprint)) info["fingerprint"] = ModelFingerprint.Of(dir);
            if (r.GetValue(json)) { CliJson.Print(info); return 0; }
            CliJson.PrintTable(info);
            return 0;
        });
        return cmd;
    }
}
