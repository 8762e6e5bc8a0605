using System.Text.Json;
using System.Text.Json.Nodes;
using NoirCode.Core.Util;
using NoirCode.Core.Model;

namespace NoirCode.Core.Split;

/// <summary>
/// noir_shard.json: what part of a split model a folder holds. A client folder has the embedding, the first
/// and last blocks and the head; a cloud folder only the middle blocks. Both name the full model's fingerprint.
/// </summary>
public sealed record ShardManifest(string Role, SplitSpec Split, int NumLayers, string ModelFingerprint)
{
    public const string FileName = "noir_shard.json";
    public const string Format = "noir-shard/1";
    public const string ClientRole = "client", CloudRole = "cloud";

    public static ShardManifest? TryLoad(string folder)
    {
        string path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            var o = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            if ((string?)o["format"] != Format) throw new ModelLoadException(path, $"unknown format '{o["format"]}' (expected {Format})");
            var role = (string)o["role"]!;
            if (role != ClientRole && role != CloudRole) throw new ModelLoadException(path, $"unknown role '{role}'");
            return new ShardManifest(role, new SplitSpec((int)o["encoder_blocks"]!, (int)o["decoder_blocks"]!), (int)o["num_layers"]!, (string)o["model_fingerprint"]!);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException or FormatException)
        {
            throw new ModelLoadException(path, $"corrupt shard manifest: {e.Message}");
        }
    }

    /// <summary>
    /// The split to load a folder with in the given role: a shard's own, after checking it holds that role, or for
    /// a whole model the requested one (the paper's default otherwise), clipped to the model's depth.
    /// </summary>
    public static SplitSpec SplitFor(string folder, ModelConfig config, string role, SplitSpec? requested)
    {
        var manifest = TryLoad(folder);
        if (manifest is not null && manifest.Role != role)
            throw new ModelLoadException(Path.Combine(folder, FileName), $"this is a {manifest.Role} shard, not a {role} shard");
        return manifest?.Split ?? (requested ?? SplitSpec.Default).ClipFor(config.NumLayers);
    }

    public void Save(string folder)
    {
        var o = new JsonObject
        {
            ["format"] = Format, ["role"] = Role, ["encoder_blocks"] = Split.EncoderBlocks, ["decoder_blocks"] = Split.DecoderBlocks,
            ["num_layers"] = NumLayers, ["model_fingerprint"] = ModelFingerprint,
        };
        File.WriteAllText(Path.Combine(folder, FileName), o.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
