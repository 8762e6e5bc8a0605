using System.Text.Json.Nodes;
using NoirCode.Core.Util;
using NoirCode.Core.Weights;
using NoirCode.Core.Split;

namespace NoirCode.Core.Model;

/// <summary>
/// A whole Hugging Face model folder as one GGUF file for llama.cpp and Ollama: the names and metadata keys of
/// llama.cpp's "llama" and "qwen2" architectures, and the byte-level BPE vocabulary of tokenizer.json. Llama's
/// q and k rows are reordered from Hugging Face's rotate-half RoPE layout to llama.cpp's interleaved one (as
/// llama.cpp's own convert_hf_to_gguf does); Qwen2 is read by llama.cpp with rotate-half RoPE, so it is not.
/// </summary>
public static class GgufExport
{
    /// <param name="dtype">the tensors' type in the file: F32, F16 or BF16 (norms and biases stay F32)</param>
    public static void Write(string modelFolder, string output, string dtype = "F32")
    {
        var config = ModelConfig.Load(modelFolder);
        if (ShardManifest.TryLoad(modelFolder) is { } shard)
            throw new ArgumentException($"{modelFolder} is a {shard.Role} shard; export the whole model");
        if (config.RopeScaling != null)
            throw new ArgumentException($"RoPE scaling '{config.RopeScaling.Type}' is not exported (llama.cpp reads it from a rope_freqs tensor this export does not write)");
        if (config.OutputBias || config.MlpBias)
            throw new ArgumentException("biases on the attention output or the MLP are not exported (llama.cpp's llama and qwen2 do not read them)");
        var type = Enum.TryParse<GgufWriter.TensorType>(dtype.ToUpperInvariant(), out var t) ? t
            : throw new ArgumentException($"unknown dtype '{dtype}' (use F32, F16 or BF16)");
        bool qwen = config.Architecture == "Qwen2ForCausalLM";
        if (config.QkvBias && !qwen) throw new ArgumentException("q/k/v biases are exported only for Qwen2 models");
        string arch = qwen ? "qwen2" : "llama";

        var gguf = new GgufWriter()
            .Add("general.architecture", arch)
            .Add("general.name", Path.GetFileName(Path.GetFullPath(modelFolder).TrimEnd('/')))
            .Add("general.alignment", (uint)GgufWriter.Alignment)
            .Add($"{arch}.context_length", (uint)config.MaxPositions)
            .Add($"{arch}.embedding_length", (uint)config.HiddenSize)
            .Add($"{arch}.block_count", (uint)config.NumLayers)
            .Add($"{arch}.feed_forward_length", (uint)config.IntermediateSize)
            .Add($"{arch}.attention.head_count", (uint)config.NumHeads)
            .Add($"{arch}.attention.head_count_kv", (uint)config.NumKvHeads)
            .Add($"{arch}.attention.key_length", (uint)config.HeadDim)
            .Add($"{arch}.attention.value_length", (uint)config.HeadDim)
            .Add($"{arch}.rope.dimension_count", (uint)config.HeadDim)
            .Add($"{arch}.rope.freq_base", (float)config.RopeTheta)
            .Add($"{arch}.attention.layer_norm_rms_epsilon", (float)config.RmsNormEps)
            .Add($"{arch}.vocab_size", (uint)config.VocabSize);
        AddVocabulary(gguf, modelFolder, config);

        var weights = WeightFolder.Open(modelFolder);
        GgufWriter.Tensor Tensor(string hf, string name, Func<float[], float[]>? reorder = null)
        {
            var shape = weights.Entry(hf).Shape;
            var stored = shape.Length == 1 ? GgufWriter.TensorType.F32 : type;   // llama.cpp wants norms and biases in F32
            return new GgufWriter.Tensor(name, shape, stored, () =>
            {
                var values = weights.ReadFloats(hf, shape).Values;
                return reorder == null ? values : reorder(values);
            });
        }
        gguf.Add(Tensor(ModelLayout.Embedding, "token_embd.weight"));
        for (int i = 0; i < config.NumLayers; i++)
        {
            string L(string part) => ModelLayout.Layer(i, part);
            string B(string part) => $"blk.{i}.{part}";
            Func<float[], float[]>? q = qwen ? null : v => Interleave(v, config.NumHeads, config.HeadDim);
            Func<float[], float[]>? k = qwen ? null : v => Interleave(v, config.NumKvHeads, config.HeadDim);
            gguf.Add(Tensor(L("input_layernorm.weight"), B("attn_norm.weight")))
                .Add(Tensor(L("self_attn.q_proj.weight"), B("attn_q.weight"), q))
                .Add(Tensor(L("self_attn.k_proj.weight"), B("attn_k.weight"), k))
                .Add(Tensor(L("self_attn.v_proj.weight"), B("attn_v.weight")));
            if (config.QkvBias)
                gguf.Add(Tensor(L("self_attn.q_proj.bias"), B("attn_q.bias")))
                    .Add(Tensor(L("self_attn.k_proj.bias"), B("attn_k.bias")))
                    .Add(Tensor(L("self_attn.v_proj.bias"), B("attn_v.bias")));
            gguf.Add(Tensor(L("self_attn.o_proj.weight"), B("attn_output.weight")))
                .Add(Tensor(L("post_attention_layernorm.weight"), B("ffn_norm.weight")))
                .Add(Tensor(L("mlp.gate_proj.weight"), B("ffn_gate.weight")))
                .Add(Tensor(L("mlp.up_proj.weight"), B("ffn_up.weight")))
                .Add(Tensor(L("mlp.down_proj.weight"), B("ffn_down.weight")));
        }
        gguf.Add(Tensor(ModelLayout.FinalNorm, "output_norm.weight"));
        // A tied head has no output.weight: llama.cpp then reads the embedding.
        if (!config.TieWordEmbeddings) gguf.Add(Tensor(ModelLayout.LmHead, "output.weight"));
        gguf.Write(output);
    }

    /// <summary>
    /// Rows of a q or k projection [heads·headDim, in] from rotate-half order (per head: the first halves of all
    /// rotated pairs, then the second halves) to interleaved order (each pair side by side).
    /// </summary>
    public static float[] Interleave(float[] weight, int heads, int headDim)
    {
        int rows = heads * headDim, columns = weight.Length / rows, half = headDim / 2;
        var result = new float[weight.Length];
        for (int h = 0; h < heads; h++)
            for (int j = 0; j < half; j++)
                for (int s = 0; s < 2; s++)
                    Array.Copy(weight, (long)(h * headDim + s * half + j) * columns, result, (long)(h * headDim + 2 * j + s) * columns, columns);
        return result;
    }

    /// <summary>tokenizer.json's byte-level BPE as llama.cpp's "gpt2" vocabulary; ids past the tokenizer's (the
    /// embedding rounded up) become unused placeholders, since llama.cpp wants one token per embedding row.</summary>
    static void AddVocabulary(GgufWriter gguf, string folder, ModelConfig config)
    {
        string path = Path.Combine(folder, "tokenizer.json");
        var json = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new ModelLoadException(path, "not a JSON object");
        if (json["model"]?["type"]?.GetValue<string>() != "BPE") throw new ArgumentException($"{path}: only byte-level BPE tokenizers are exported");
        var tokens = new string?[config.VocabSize];
        var types = new int[config.VocabSize];
        foreach (var entry in json["model"]!["vocab"]!.AsObject()) Place(entry.Value!.GetValue<int>(), entry.Key, 1); // normal
        foreach (var added in json["added_tokens"]?.AsArray() ?? new JsonArray())
            Place(added!["id"]!.GetValue<int>(), added["content"]!.GetValue<string>(), added["special"]?.GetValue<bool>() == false ? 4 : 3); // user-defined, control
        for (int i = 0; i < tokens.Length; i++)
            if (tokens[i] == null) { tokens[i] = $"[PAD{i}]"; types[i] = 5; } // unused
        var merges = json["model"]!["merges"]!.AsArray().Select(m => m is JsonArray pair ? $"{pair[0]} {pair[1]}" : m!.GetValue<string>()).ToList();
        int eos = config.EosTokenIds.FirstOrDefault();
        gguf.Add("tokenizer.ggml.model", "gpt2")
            .Add("tokenizer.ggml.pre", PreTokenizer(json))
            .Add("tokenizer.ggml.tokens", tokens!)
            .Add("tokenizer.ggml.token_type", types)
            .Add("tokenizer.ggml.merges", merges)
            .Add("tokenizer.ggml.eos_token_id", (uint)eos)
            .Add("tokenizer.ggml.bos_token_id", (uint)(config.BosTokenId ?? eos))
            .Add("tokenizer.ggml.add_bos_token", config.BosTokenId != null);

        void Place(int id, string text, int type)
        {
            if (id < 0 || id >= tokens.Length) throw new ArgumentException($"{path}: token id {id} is outside the embedding's {tokens.Length} rows");
            tokens[id] = text; types[id] = type;
        }
    }

    /// <summary>llama.cpp names the pre-tokenizer regexes it knows; this tokenizer's Split regex picks the name.</summary>
    static string PreTokenizer(JsonObject json)
    {
        var node = json["pre_tokenizer"];
        var splits = node?["pretokenizers"]?.AsArray().Select(p => p) ?? new[] { node };
        var regex = splits.Select(p => p?["pattern"]?["Regex"]?.GetValue<string>()).FirstOrDefault(r => r != null);
        return regex == Tokenization.SplitPreTokenizer.Qwen2Pattern ? "qwen2" : "default";
    }
}
