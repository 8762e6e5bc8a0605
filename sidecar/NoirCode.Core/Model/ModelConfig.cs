using System.Text.Json;
using System.Text.Json.Nodes;
using NoirCode.Core.Util;

namespace NoirCode.Core.Model;

/// <summary>How rotary position frequencies are stretched for long contexts (config.json "rope_scaling").</summary>
public sealed record RopeScaling(string Type, double Factor, double LowFreqFactor, double HighFreqFactor, int OriginalMaxPositions);

/// <summary>
/// The shape of a Llama-family decoder, read from a Hugging Face config.json. Architectures that share the
/// Llama maths (Qwen2: q/k/v bias; Mistral without sliding windows) map onto the same fields.
/// </summary>
public sealed record ModelConfig
{
    public static readonly IReadOnlyList<string> SupportedArchitectures =
        new[] { "LlamaForCausalLM", "Qwen2ForCausalLM", "MistralForCausalLM" };

    public string Architecture { get; init; } = "LlamaForCausalLM";
    public int VocabSize { get; init; }
    public int HiddenSize { get; init; }
    public int IntermediateSize { get; init; }
    public int NumLayers { get; init; }
    public int NumHeads { get; init; }
    public int NumKvHeads { get; init; }
    public int HeadDim { get; init; }
    public double RmsNormEps { get; init; } = 1e-6;
    public double RopeTheta { get; init; } = 10000;
    public RopeScaling? RopeScaling { get; init; }
    public int MaxPositions { get; init; } = 2048;
    public bool TieWordEmbeddings { get; init; }
    /// <summary>Bias on the q, k and v projections (Qwen2 always; Llama when attention_bias).</summary>
    public bool QkvBias { get; init; }
    /// <summary>Bias on the output projection (Llama's attention_bias covers it too).</summary>
    public bool OutputBias { get; init; }
    public bool MlpBias { get; init; }
    public int? BosTokenId { get; init; }
    public IReadOnlyList<int> EosTokenIds { get; init; } = Array.Empty<int>();
    public string TorchDtype { get; init; } = "float32";

    public int KvGroups => NumHeads / NumKvHeads;

    public static ModelConfig Load(string folder)
    {
        string path = Path.Combine(folder, "config.json");
        if (!Directory.Exists(folder)) throw new ModelLoadException(null, $"model folder {folder} does not exist");
        if (!File.Exists(path)) throw new ModelLoadException(path, "missing: a Hugging Face model folder needs config.json");
        JsonObject json;
        try { json = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new JsonException("not a JSON object"); }
        catch (JsonException e) { throw new ModelLoadException(path, $"not valid JSON: {e.Message}"); }
        return Parse(json, path);
    }

    public static ModelConfig Parse(JsonObject json, string path)
    {
        string arch = json["architectures"] is JsonArray { Count: > 0 } a ? a[0]!.GetValue<string>()
            : Str(json, "model_type") switch { "llama" => "LlamaForCausalLM", "qwen2" => "Qwen2ForCausalLM", "mistral" => "MistralForCausalLM", var t => t ?? "(none)" };
        if (!SupportedArchitectures.Contains(arch))
            throw new ModelLoadException(path, $"architecture '{arch}' is not supported; supported: {string.Join(", ", SupportedArchitectures)}");
        string act = Str(json, "hidden_act") ?? "silu";
        if (act != "silu") throw new ModelLoadException(path, $"hidden_act '{act}' is not supported (only silu, as in Llama/Qwen2)");
        if (arch == "MistralForCausalLM" && json["sliding_window"] is JsonValue && Int(json, "sliding_window", path) < Int(json, "max_position_embeddings", path, 2048))
            throw new ModelLoadException(path, "sliding-window attention is not supported");
        if (json["use_sliding_window"] is JsonValue sw && sw.GetValue<bool>())
            throw new ModelLoadException(path, "sliding-window attention is not supported");

        int hidden = Int(json, "hidden_size", path), heads = Int(json, "num_attention_heads", path);
        int kvHeads = Int(json, "num_key_value_heads", path, heads);
        int headDim = json["head_dim"] is JsonValue ? Int(json, "head_dim", path) : hidden / Math.Max(heads, 1);
        if (hidden <= 0 || heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0 || headDim % 2 != 0 || headDim * heads <= 0)
            throw new ModelLoadException(path, $"inconsistent attention shape: hidden_size={hidden}, num_attention_heads={heads}, num_key_value_heads={kvHeads}, head_dim={headDim}");
        bool qwen = arch == "Qwen2ForCausalLM";
        bool attentionBias = json["attention_bias"] is JsonValue ab && ab.GetValue<bool>();
        var cfg = new ModelConfig
        {
            Architecture = arch,
            VocabSize = Int(json, "vocab_size", path),
            HiddenSize = hidden,
            IntermediateSize = Int(json, "intermediate_size", path),
            NumLayers = Int(json, "num_hidden_layers", path),
            NumHeads = heads,
            NumKvHeads = kvHeads,
            HeadDim = headDim,
            RmsNormEps = Dbl(json, "rms_norm_eps", 1e-6),
            RopeTheta = Dbl(json, "rope_theta", 10000),
            RopeScaling = ParseRopeScaling(json["rope_scaling"], path, Int(json, "max_position_embeddings", path, 2048)),
            MaxPositions = Int(json, "max_position_embeddings", path, 2048),
            TieWordEmbeddings = json["tie_word_embeddings"] is JsonValue tie ? tie.GetValue<bool>() : false,
            QkvBias = qwen || attentionBias,
            OutputBias = !qwen && attentionBias,
            MlpBias = json["mlp_bias"] is JsonValue mb && mb.GetValue<bool>(),
            BosTokenId = json["bos_token_id"] is JsonValue b ? b.GetValue<int>() : null,
            EosTokenIds = json["eos_token_id"] switch
            {
                JsonArray arr => arr.Select(x => x!.GetValue<int>()).ToArray(),
                JsonValue v => new[] { v.GetValue<int>() },
                _ => Array.Empty<int>(),
            },
            TorchDtype = Str(json, "torch_dtype") ?? Str(json, "dtype") ?? "float32",
        };
        if (cfg.VocabSize <= 0 || cfg.IntermediateSize <= 0 || cfg.NumLayers <= 0)
            throw new ModelLoadException(path, "vocab_size, intermediate_size and num_hidden_layers must be positive");
        return cfg;
    }

    static RopeScaling? ParseRopeScaling(JsonNode? node, string path, int maxPositions)
    {
        if (node is not JsonObject o) return null;
        string type = Str(o, "rope_type") ?? Str(o, "type") ?? "default";
        if (type == "default") return null;
        if (type != "linear" && type != "llama3")
            throw new ModelLoadException(path, $"rope_scaling type '{type}' is not supported (supported: linear, llama3)");
        return new RopeScaling(type, Dbl(o, "factor", 1), Dbl(o, "low_freq_factor", 1), Dbl(o, "high_freq_factor", 4),
            o["original_max_position_embeddings"] is JsonValue ? Int(o, "original_max_position_embeddings", path) : maxPositions);
    }

    /// <summary>The config.json a Hugging Face loader would accept for this shape.</summary>
    public JsonObject ToJson()
    {
        var o = new JsonObject
        {
            ["architectures"] = new JsonArray(Architecture),
            ["model_type"] = Architecture switch { "Qwen2ForCausalLM" => "qwen2", "MistralForCausalLM" => "mistral", _ => "llama" },
            ["vocab_size"] = VocabSize,
            ["hidden_size"] = HiddenSize,
            ["intermediate_size"] = IntermediateSize,
            ["num_hidden_layers"] = NumLayers,
            ["num_attention_heads"] = NumHeads,
            ["num_key_value_heads"] = NumKvHeads,
            ["head_dim"] = HeadDim,
            ["hidden_act"] = "silu",
            ["rms_norm_eps"] = RmsNormEps,
            ["rope_theta"] = RopeTheta,
            ["max_position_embeddings"] = MaxPositions,
            ["tie_word_embeddings"] = TieWordEmbeddings,
            ["torch_dtype"] = TorchDtype,
        };
        if (Architecture != "Qwen2ForCausalLM") o["attention_bias"] = QkvBias;
        if (MlpBias) o["mlp_bias"] = true;
        if (RopeScaling is { } rs)
            o["rope_scaling"] = new JsonObject
            {
                ["rope_type"] = rs.Type, ["factor"] = rs.Factor, ["low_freq_factor"] = rs.LowFreqFactor,
                ["high_freq_factor"] = rs.HighFreqFactor, ["original_max_position_embeddings"] = rs.OriginalMaxPositions,
            };
        if (BosTokenId is int bos) o["bos_token_id"] = bos;
        if (EosTokenIds.Count == 1) o["eos_token_id"] = EosTokenIds[0];
        else if (EosTokenIds.Count > 1) o["eos_token_id"] = new JsonArray(EosTokenIds.Select(x => (JsonNode)x).ToArray());
        return o;
    }

    static string? Str(JsonObject o, string key) => o[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    static double Dbl(JsonObject o, string key, double fallback) => o[key] is JsonValue v ? v.GetValue<double>() : fallback;

    static int Int(JsonObject o, string key, string path, int? fallback = null)
    {
        if (o[key] is JsonValue v)
        {
            if (v.TryGetValue<int>(out int i)) return i;
            if (v.TryGetValue<double>(out double d) && d == Math.Floor(d)) return (int)d;
            throw new ModelLoadException(path, $"'{key}' must be a whole number");
        }
        return fallback ?? throw new ModelLoadException(path, $"required field '{key}' is missing");
    }
}
