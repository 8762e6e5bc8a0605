using System.Security.Cryptography;
using System.Text;
using NoirCode.Core.Weights;
using NoirCode.Core.Split;

namespace NoirCode.Core.Model;

/// <summary>
/// SHA-256 over the model's shape and every tensor's name, dtype, shape and bytes (in name order, so it does
/// not depend on how the tensors are spread over files). Privacy keys and endpoint sessions are bound to it.
/// A split folder carries the fingerprint of the model it came from.
/// </summary>
public static class ModelFingerprint
{
    public static string Of(string folder)
    {
        if (ShardManifest.TryLoad(folder) is { } manifest) return manifest.ModelFingerprint;
        var config = ModelConfig.Load(folder);
        return Compute(config, WeightFolder.Open(folder));
    }

    public static string Compute(ModelConfig config, WeightFolder weights)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Encoding.UTF8.GetBytes(config.ToJson().ToJsonString()));
        foreach (var entry in weights.Entries.OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            sha.AppendData(Encoding.UTF8.GetBytes($"\n{entry.Name}|{entry.Dtype}|{string.Join(",", entry.Shape)}|"));
            sha.AppendData(weights.ReadRaw(entry.Name));
        }
        return "sha256:" + Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
