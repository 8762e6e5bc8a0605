using System.Text.Json;
using System.Text.Json.Nodes;

namespace NoirCode.Core.Weights;

/// <summary>Writes tensors as a Hugging Face folder: one model.safetensors, or numbered shards plus an index.</summary>
public static class WeightFolderWriter
{
    public const long DefaultMaxShardBytes = 2L << 30;

    public static void Write(string folder, IReadOnlyList<TensorData> tensors, long maxShardBytes = DefaultMaxShardBytes)
    {
        Directory.CreateDirectory(folder);
        var shards = new List<List<TensorData>> { new() };
        long size = 0;
        foreach (var t in tensors.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            if (shards[^1].Count > 0 && size + t.ByteCount > maxShardBytes) { shards.Add(new()); size = 0; }
            shards[^1].Add(t);
            size += t.ByteCount;
        }
        var metadata = new Dictionary<string, string> { ["format"] = "pt" };
        if (shards.Count == 1)
        {
            SafetensorsFile.Write(Path.Combine(folder, WeightFolder.SingleFile), shards[0], metadata);
            return;
        }
        var weightMap = new JsonObject();
        for (int i = 0; i < shards.Count; i++)
        {
            string name = $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
            SafetensorsFile.Write(Path.Combine(folder, name), shards[i], metadata);
            foreach (var t in shards[i]) weightMap[t.Name] = name;
        }
        var index = new JsonObject
        {
            ["metadata"] = new JsonObject { ["total_size"] = tensors.Sum(t => t.ByteCount) },
            ["weight_map"] = weightMap,
        };
        File.WriteAllText(Path.Combine(folder, WeightFolder.IndexFile), index.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
