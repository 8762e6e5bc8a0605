using System.Text.Json;
using System.Text.Json.Nodes;

namespace NoirCode.Privacy.Keys;

/// <summary>
/// The binding of a tuned client shard to the privacy keys it was tuned under (<c>noir_tuning.json</c>): a tuned
/// decoder speaks the keys' secret permutation, so it must never run with other keys. It also names the endpoint
/// adapter tuned with it, and the longest window it was tuned on. Kept with the keys, so whoever loads a shard
/// (sidecar, attack harness) checks it without the tuner or its transport.
/// </summary>
public static class TunedShardBinding
{
    public const string FileName = "noir_tuning.json";

    public static bool Exists(string folder) => File.Exists(Path.Combine(folder, FileName));

    /// <summary>Owner-only, like the shard it binds.</summary>
    /// <param name="windowTokens">the longest sequence the decoder was tuned on; null when not known</param>
    public static void Write(string folder, KeyMetadata keys, int steps, string? adapterId, int? windowTokens = null) =>
        SecureFiles.WriteAllText(Path.Combine(folder, FileName), new JsonObject
        {
            ["key_id"] = keys.KeyId, ["epsilon"] = keys.Epsilon, ["steps"] = steps, ["updated_utc"] = DateTimeOffset.UtcNow.ToString("O"),
            // The endpoint adapter this decoder was tuned with; absent in shards tuned before adapters were named.
            ["adapter_id"] = adapterId,
            // A keyed decoder has seen its keys' garbled rows only at these positions (the sidecar cuts prompts to them).
            ["window_tokens"] = windowTokens,
        }.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

    /// <summary>Throws when <paramref name="folder"/> was tuned under other keys; an untuned folder binds nothing.</summary>
    public static void Check(string folder, string keyId)
    {
        if (Read(folder) is not { } binding) return;
        string bound = (string)binding["key_id"]!;
        if (bound != keyId)
            throw new KeyMismatchException($"{folder} was tuned with keys {bound}, not {keyId}; use those keys or tune again with these");
    }

    /// <summary>The adapter the shard was tuned with: null when untuned, "" when tuned before adapters were named.</summary>
    public static string? AdapterId(string folder) => Read(folder) is { } binding ? (string?)binding["adapter_id"] ?? "" : null;

    /// <summary>The longest sequence the shard was tuned on: null when untuned or tuned before it was recorded.</summary>
    public static int? WindowTokens(string folder) => (int?)Read(folder)?["window_tokens"];

    static JsonNode? Read(string folder)
    {
        string path = Path.Combine(folder, FileName);
        return File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path)) : null;
    }
}
