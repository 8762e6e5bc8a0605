using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using NoirCode.Core.Model;
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
        // New keys are at least as strong as the default (rotating away from one-table keys gives the default's k tables).
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
            TunedShardRekey.Write(modelFolder, client, oldKeys!.Permutation, keys, adapterId);
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

    static string Sibling(string keysFolder, string stamp)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(keysFolder));
        string baseName = Path.GetFileName(full);
        int dash = baseName.LastIndexOf("-rotated-", StringComparison.Ordinal);
        if (dash > 0) baseName = baseName[..dash];
        return Path.Combine(Path.GetDirectoryName(full)!, $"{baseName}-rotated-{stamp}");
    }
}
