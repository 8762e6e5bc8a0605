using System.Text.Json;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Core.Weights;
using NoirCode.Privacy.Keys;

namespace NoirCode.STuning;

/// <summary>
/// Writes a tuned client shard: the public embedding (keys replace it when loaded), the tuned encoder and decoder
/// blocks, final norm and untied head, config, tokenizer, shard manifest and, when tuned under keys, the binding to
/// them (and to the endpoint adapter tuned with them). Owner-only files: a tuned decoder speaks the secret permutation. Used by STuning and by imports of tuning
/// done elsewhere (scripts/gpu), so every tuned shard has one layout.
/// </summary>
public static class TunedShardWriter
{
    public static void Write(string outFolder, string sourceModelFolder, ModelConfig config, SplitSpec split, string fingerprint,
        IEnumerable<TensorData> tuned, KeyMetadata? keys, int steps, string? adapterId = null, int? windowTokens = null)
    {
        SecureFiles.CreateFolder(outFolder);
        var untied = config with { TieWordEmbeddings = false };
        var weights = WeightFolder.Open(sourceModelFolder);
        var tensors = new List<TensorData> { TensorData.Lazy(ModelLayout.Embedding, weights.Entry(ModelLayout.Embedding).Dtype, ModelLayout.EmbeddingShape(untied), () => weights.ReadRaw(ModelLayout.Embedding)) };
        tensors.AddRange(tuned);
        SafetensorsFile.Write(Path.Combine(outFolder, WeightFolder.SingleFile), tensors, mode: SecureFiles.OwnerFile);
        var indented = new JsonSerializerOptions { WriteIndented = true };
        SecureFiles.WriteAllText(Path.Combine(outFolder, "config.json"), untied.ToJson().ToJsonString(indented));
        foreach (var f in new[] { "tokenizer.json", "tokenizer_config.json" })
            if (File.Exists(Path.Combine(sourceModelFolder, f))) SecureFiles.WriteAllText(Path.Combine(outFolder, f), File.ReadAllText(Path.Combine(sourceModelFolder, f)));
        new ShardManifest(ShardManifest.ClientRole, split, config.NumLayers, fingerprint).Save(outFolder);
        File.SetUnixFileMode(Path.Combine(outFolder, ShardManifest.FileName), SecureFiles.OwnerFile);
        if (keys != null) TunedShardBinding.Write(outFolder, keys, steps, adapterId, windowTokens);
    }
}
