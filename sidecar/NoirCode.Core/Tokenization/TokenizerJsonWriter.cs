using System.Text.Json;
using System.Text.Json.Nodes;

namespace NoirCode.Core.Tokenization;

/// <summary>Writes a trained byte-level BPE as a Hugging Face tokenizer.json (Qwen2-style pre-tokenizer).</summary>
public static class TokenizerJsonWriter
{
    /// <summary>Our special tokens, named as Qwen2.5-Coder's so FIM prompts look the same for both.</summary>
    public static readonly string[] DefaultSpecials =
        { "<|endoftext|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|file_sep|>", "<|repo_name|>" };

    /// <returns>the ids given to the special tokens, in order</returns>
    public static IReadOnlyDictionary<string, int> Write(string folder, BpeTrainer.Result bpe, IReadOnlyList<string>? specials = null, int maxLength = 2048)
    {
        specials ??= DefaultSpecials;
        var vocab = new JsonObject();
        for (int i = 0; i < bpe.Vocabulary.Count; i++) vocab[bpe.Vocabulary[i]] = i;
        var specialIds = specials.Select((s, i) => (s, id: bpe.Vocabulary.Count + i)).ToDictionary(x => x.s, x => x.id);
        var byteLevel = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = false, ["use_regex"] = false };
        var json = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = new JsonArray(specialIds.Select(kv => (JsonNode)new JsonObject
            {
                ["id"] = kv.Value, ["content"] = kv.Key, ["single_word"] = false, ["lstrip"] = false,
                ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
            }).ToArray()),
            ["normalizer"] = new JsonObject { ["type"] = "NFC" },
            ["pre_tokenizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = SplitPreTokenizer.Qwen2Pattern }, ["behavior"] = "Isolated", ["invert"] = false },
                    byteLevel),
            },
            ["post_processor"] = null,
            ["decoder"] = byteLevel.DeepClone(),
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null, ["fuse_unk"] = false, ["byte_fallback"] = false,
                ["vocab"] = vocab,
                ["merges"] = new JsonArray(bpe.Merges.Select(m => (JsonNode)$"{m.Left} {m.Right}").ToArray()),
            },
        };
        var options = new JsonSerializerOptions { WriteIndented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        File.WriteAllText(Path.Combine(folder, "tokenizer.json"), json.ToJsonString(options));
        var config = new JsonObject
        {
            ["tokenizer_class"] = "PreTrainedTokenizerFast",
            ["model_max_length"] = maxLength,
            ["eos_token"] = specials[0],
            ["pad_token"] = specials.Contains("<|fim_pad|>") ? "<|fim_pad|>" : specials[0],
            ["additional_special_tokens"] = new JsonArray(specials.Select(s => (JsonNode)s).ToArray()),
        };
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = options.Encoder }));
        return specialIds;
    }
}
