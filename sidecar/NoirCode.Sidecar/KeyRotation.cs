using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Core.Weights;
using NoirCode.Privacy.Keys;
using NoirCode.Remote;
using NoirCode.STuning;

namespace NoirCode.Sidecar;

/// <param name="ClientFolder">the tuned client shard re-keyed for the new keys (null when the model was not tuned)</param>
/// <param name="AdapterId">the endpoint adapter the new keys run with: a fresh one, never the old keys'</param>
public sealed record KeyRotationResult(string KeysFolder, string KeyId, double Epsilon, string PreviousKeyId, string? ClientFolder, string AdapterId);

/// <summary>
/// Key rotation: new keys with the same ε (and label) for the same model, written beside the old ones (never over
/// them), with a record of which keys they replace (rotation.json, for the ledger's history). A tuned client shard
/// is re-keyed rather than refused: its head is re-indexed from the old secret permutation to the new one (exact
/// for LTokenizer), its encoder and decoder blocks are kept as the warm start, and it is bound to the new keys and
/// to a fresh endpoint adapter, with its tuning count at 0: the new INDVocab table is a new randomisation the encoder
/// has not seen, so it needs tuning again (<c>noir tune</c>, or the rotation's re-tune), which trains that fresh
/// adapter. The old keys' adapter on the endpoint is left alone.
/// </summary>
public static class KeyRotation
{
    public const string LineageFile = "rotation.json";

    public static KeyRotationResult Rotate(string keysFolder, string modelFolder, DateTimeOffset now, Core.Util.IProgressSink? progress = null)
    {
        var old = PrivacyKeys.ReadMetadata(keysFolder);
        string fingerprint = ModelFingerprint.Of(modelFolder);
        if (fingerprint != old.ModelFingerprint) throw new InvalidOperationException("the current keys belong to another model than the one loaded");
        bool tuned = File.Exists(Path.Combine(modelFolder, TunedShardBinding.FileName));
        // A tuned shard's head speaks the old permutation: re-indexing it needs the old keys themselves.
        var oldKeys = tuned ? PrivacyKeys.Load(keysFolder, fingerprint) : null;
        if (tuned) TunedShardBinding.Check(modelFolder, old.KeyId);
        var config = ModelConfig.Load(modelFolder);
        var (embedding, dtype) = PrivacyKeys.ReadEmbedding(modelFolder, config); // a tuned shard keeps the public embedding
        string label = old.Demo ? "private" : old.Label;
        // New keys are at least as strong as the default (rotating away from the demo keys' single table gives k tables).
        int homophones = Math.Max(old.Homophones, PrivacyKeys.DefaultHomophones(config));
        var (keys, _) = PrivacyKeys.Generate(embedding, config, fingerprint, old.Epsilon, label, progress: progress, tableDtype: dtype, homophones: homophones);

        string stamp = now.UtcDateTime.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        string target = Sibling(keysFolder, stamp);
        if (Directory.Exists(target)) throw new IOException($"{target} exists already; try again in a second");
        keys.Save(target);
        SecureFiles.WriteAllText(Path.Combine(target, LineageFile), new JsonObject
        {
            ["previous_key_id"] = old.KeyId, ["previous_keys"] = Path.GetFullPath(keysFolder), ["rotated_utc"] = now.ToString("O"),
        }.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

        string adapterId = TenantAdapterId.ForKey(keys.Metadata.KeyId);
        string? client = null;
        if (tuned)
        {
            // Beside the new keys (the old shard may sit in a read-only bundle), never over anything.
            client = target + "-client";
            if (Directory.Exists(client)) throw new IOException($"{client} exists already; try again in a second");
            Rekey(modelFolder, client, oldKeys!.Permutation, keys, adapterId);
        }
        return new KeyRotationResult(target, keys.Metadata.KeyId, old.Epsilon, old.KeyId, client, adapterId);
    }

    /// <summary>The keys these replaced, from their rotation record; null for keys made by keygen.</summary>
    public static string? PreviousKeyId(string keysFolder)
    {
        string path = Path.Combine(keysFolder, LineageFile);
        if (!File.Exists(path)) return null;
        try { return (string?)JsonNode.Parse(File.ReadAllText(path))?["previous_key_id"]; }
        catch (JsonException e) { throw new IOException($"{path} is corrupt: {e.Message}"); }
    }

    /// <summary>
    /// Writes the tuned shard for the new keys: head row π_new(t) = old head row π_old(t) for every token t, the
    /// other tuned tensors as they are, the public embedding (keys replace it when loaded).
    /// </summary>
    static void Rekey(string tunedFolder, string outFolder, Privacy.LTokenizer oldPermutation, PrivacyKeys keys, string adapterId)
    {
        var config = ModelConfig.Load(tunedFolder);
        var manifest = ShardManifest.TryLoad(tunedFolder) ?? throw new InvalidOperationException($"{tunedFolder} is tuned but holds no shard manifest");
        var weights = WeightFolder.Open(tunedFolder);
        var tensors = new List<TensorData>();
        foreach (var entry in weights.Entries)
        {
            if (entry.Name == ModelLayout.Embedding) continue; // the writer adds the public one
            byte[] data = weights.ReadRaw(entry.Name);
            if (entry.Name == ModelLayout.LmHead) data = Reindex(data, entry, oldPermutation, keys.Permutation);
            tensors.Add(TensorData.Of(entry.Name, entry.Dtype, entry.Shape, data));
        }
        TunedShardWriter.Write(outFolder, tunedFolder, config, manifest.Split, manifest.ModelFingerprint, tensors, keys.Metadata, steps: 0, adapterId);
    }

    static byte[] Reindex(byte[] head, TensorEntry entry, Privacy.LTokenizer from, Privacy.LTokenizer to)
    {
        int vocab = (int)entry.Shape[0];
        if (vocab != from.Count || vocab != to.Count) throw new InvalidOperationException($"the head has {vocab} rows, the keys a vocabulary of {from.Count}");
        int row = head.Length / vocab;
        var result = new byte[head.Length];
        for (int t = 0; t < vocab; t++) Buffer.BlockCopy(head, from.ToIndex(t) * row, result, to.ToIndex(t) * row, row);
        return result;
    }

    static string Sibling(string keysFolder, string stamp)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(keysFolder));
        string baseName = Path.GetFileName(full);
        int dash = baseName.LastIndexOf("-rotated-", StringComparison.Ordinal);
        if (dash > 0) baseName = baseName[..dash];
        return Path.Combine(Path.GetDirectoryName(full)!, $"{baseName}-rotated-{stamp}");
    }
}
