using System.CommandLine;
using System.Text.Json.Nodes;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Core.Weights;
using NoirCode.Privacy.Keys;
using NoirCode.Remote;
using NoirCode.STuning;

namespace NoirCode.Cli.Commands;

/// <summary>
/// <c>noir tune import</c>: turns STuning done elsewhere (scripts/gpu/noir_gpu.py stune on a lent GPU) into the
/// same tuned client shard <c>noir tune</c> writes, plus the endpoint's tenant adapter for the middle blocks.
/// Every tensor is checked against the model's layout, so a file for another model or split is refused.
/// </summary>
public static class TuneImportCommand
{
    const string AdapterPrefix = "adapter/";

    public static Command Create()
    {
        var model = CommonOptions.Model("the public model the tuning started from");
        var from = new Option<string>("--from") { Description = "tuned.safetensors written by scripts/gpu/noir_gpu.py stune", Required = true };
        var keys = new Option<string?>("--keys") { Description = "the keys it was tuned under (none: fClean, split tuning without INDVocab/LTokenizer)" };
        var output = new Option<string>("--out") { Description = "folder for the tuned client shard (owner-only)", Required = true };
        var stateDir = new Option<string?>("--state-dir") { Description = "endpoint state folder to receive the tenant's LoRA (noir cloud serve --state-dir)" };
        var tenant = new Option<string>("--tenant") { Description = "tenant that owns the LoRA", DefaultValueFactory = _ => "local" };
        var split = CommonOptions.Split();
        var cmd = new Command("import", "Import STuning done elsewhere as a tuned client shard and an endpoint tenant adapter")
            { model, from, keys, output, stateDir, tenant, split };
        cmd.SetAction(r =>
        {
            string modelDir = r.GetValue(model)!;
            var config = ModelConfig.Load(modelDir);
            var splitSpec = CommonOptions.ParseSplit(r.GetValue(split));
            var file = SafetensorsFile.Open(r.GetValue(from)!);
            var expected = ClientTensors(config, splitSpec);
            var client = file.Tensors.Values.Where(e => !e.Name.StartsWith(AdapterPrefix, StringComparison.Ordinal)).ToList();
            foreach (var e in client)
                if (!expected.TryGetValue(e.Name, out var shape) || !shape.SequenceEqual(e.Shape))
                    throw new ArgumentException($"{file.Path}: tensor '{e.Name}' {string.Join("x", e.Shape)} is not part of a split-{splitSpec} client of this model");
            if (client.Count != expected.Count)
                throw new ArgumentException($"{file.Path}: has {client.Count} client tensors, a split-{splitSpec} client of this model has {expected.Count}");
            string fingerprint = ModelFingerprint.Of(modelDir);
            var keyMeta = r.GetValue(keys) is { } k ? PrivacyKeys.Load(k, fingerprint).Metadata : null;
            var summary = file.Metadata.TryGetValue("summary", out var s) ? JsonNode.Parse(s) : null;
            int steps = (int?)summary?["steps"] ?? 0;
            TunedShardWriter.Write(r.GetValue(output)!, modelDir, config, splitSpec, fingerprint,
                client.Select(e => TensorData.Of(e.Name, e.Dtype, e.Shape, file.ReadBytes(e))), keyMeta, steps, windowTokens: (int?)summary?["seq"]);

            if (r.GetValue(stateDir) is { } state)
            {
                var adapter = file.Tensors.Values.Where(e => e.Name.StartsWith(AdapterPrefix, StringComparison.Ordinal)).ToList();
                if (adapter.Count == 0) throw new ArgumentException($"{file.Path} holds no adapter tensors");
                string folder = Path.Combine(state, "tenants", r.GetValue(tenant)!);
                SecureFiles.CreateFolder(folder);
                var meta = file.Metadata.Where(m => m.Key is "rank" or "alpha").ToDictionary(m => m.Key, m => m.Value);
                string path = Path.Combine(folder, "adapter.safetensors");
                SafetensorsFile.Write(path, adapter.Select(e => TensorData.Of(e.Name[AdapterPrefix.Length..], e.Dtype, e.Shape, file.ReadBytes(e))).ToList(), meta, SecureFiles.OwnerFile);
                File.WriteAllText(path + ".steps", Math.Max(1, steps).ToString());
            }
            Console.Error.WriteLine($"imported {client.Count} client tensors ({steps} steps{(keyMeta != null ? $", keys {keyMeta.KeyId}" : ", fClean")}) into {r.GetValue(output)}");
            return 0;
        });
        return cmd;
    }

    /// <summary>The client's trainable tensors for a split: encoder and decoder blocks, final norm, untied head.</summary>
    static Dictionary<string, long[]> ClientTensors(ModelConfig c, SplitSpec split)
    {
        var layers = Enumerable.Range(0, split.EncoderBlocks).Concat(Enumerable.Range(c.NumLayers - split.DecoderBlocks, split.DecoderBlocks));
        var d = layers.SelectMany(i => ModelLayout.BlockTensors(c, i)).ToDictionary(t => t.Name, t => t.Shape);
        d[ModelLayout.FinalNorm] = new long[] { c.HiddenSize };
        d[ModelLayout.LmHead] = ModelLayout.EmbeddingShape(c);
        return d;
    }
}
