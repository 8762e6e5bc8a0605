using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.Tokenizers;
using NoirCode.Core.Util;

namespace NoirCode.Core.Tokenization;

/// <summary>
/// A Hugging Face byte-level BPE tokenizer.json on top of Microsoft.ML.Tokenizers. Added (special) tokens
/// are kept apart: <see cref="Encode"/> treats every string in user text as text, and control tokens are
/// only ever inserted by id.
/// </summary>
public sealed class CodeTokenizer
{
    readonly Tokenizer _bpe;
    readonly Dictionary<int, string> _specialById;
    readonly bool _nfc;

    public IReadOnlyDictionary<string, int> Specials { get; }
    public FimFormat? Fim { get; }
    /// <summary>Tokens that end a generation: the config's EOS ids and the families' end/pad tokens.</summary>
    public IReadOnlySet<int> EndTokens { get; }
    /// <summary>One more than the largest id the tokenizer can produce.</summary>
    public int IdCount { get; }

    static readonly string[] EndTokenNames =
        { "<|endoftext|>", "<|fim_pad|>", "<|file_sep|>", "<|im_end|>", "<|repo_name|>", "<｜end▁of▁sentence｜>", "<|EOT|>", "</s>", "▁<EOT>", "<EOT>" };

    CodeTokenizer(Tokenizer bpe, Dictionary<string, int> specials, bool nfc, IEnumerable<int> configEos, int idCount)
    {
        _bpe = bpe;
        _nfc = nfc;
        Specials = specials;
        _specialById = specials.ToDictionary(kv => kv.Value, kv => kv.Key);
        Fim = FimFormat.Detect(specials);
        EndTokens = configEos.Concat(EndTokenNames.Where(specials.ContainsKey).Select(n => specials[n])).ToHashSet();
        IdCount = idCount;
    }

    public static CodeTokenizer Load(string folder, IEnumerable<int>? configEos = null)
    {
        string path = Path.Combine(folder, "tokenizer.json");
        if (!File.Exists(path)) throw new ModelLoadException(path, "missing: the model folder needs a Hugging Face tokenizer.json");
        JsonObject json;
        try { json = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new JsonException("not an object"); }
        catch (JsonException e) { throw new ModelLoadException(path, $"not valid JSON: {e.Message}"); }
        try { return FromJson(json, path, configEos ?? Array.Empty<int>()); }
        catch (Exception e) when (e is InvalidOperationException or NullReferenceException or InvalidCastException or FormatException or ArgumentException or KeyNotFoundException)
        {
            throw new ModelLoadException(path, $"cannot be read as a byte-level BPE tokenizer: {e.Message}");
        }
    }

    static CodeTokenizer FromJson(JsonObject json, string path, IEnumerable<int> configEos)
    {
        if (json["model"] is not JsonObject model || (string?)model["type"] != "BPE")
            throw new ModelLoadException(path, $"model type '{json["model"]?["type"]}' is not supported (only byte-level BPE)");
        var patterns = PreTokenizerPatterns(json["pre_tokenizer"], path, out bool byteLevel);
        if (!byteLevel || (model["byte_fallback"] is JsonValue bf && bf.GetValue<bool>()))
            throw new ModelLoadException(path, "not a byte-level BPE tokenizer (SentencePiece-style tokenizers such as CodeLlama's are not supported yet)");

        var vocab = model["vocab"]!.AsObject().Select(kv => KeyValuePair.Create(kv.Key, kv.Value!.GetValue<int>())).ToList();
        var merges = model["merges"]!.AsArray().Select(m => m is JsonArray pair
            ? $"{pair[0]!.GetValue<string>()} {pair[1]!.GetValue<string>()}" : m!.GetValue<string>()).ToList();
        var specials = new Dictionary<string, int>();
        if (json["added_tokens"] is JsonArray added)
            foreach (var t in added) specials[t!["content"]!.GetValue<string>()] = t["id"]!.GetValue<int>();
        bool nfc = json["normalizer"] is JsonObject norm && (string?)norm["type"] == "NFC";

        var options = new BpeOptions(vocab.Where(kv => !specials.ContainsKey(kv.Key)))
        {
            Merges = merges,
            ByteLevel = true,
            PreTokenizer = new SplitPreTokenizer(patterns),
        };
        var bpe = BpeTokenizer.Create(options);
        int idCount = vocab.Select(kv => kv.Value).Concat(specials.Values).DefaultIfEmpty(-1).Max() + 1;
        return new CodeTokenizer(bpe, specials, nfc, configEos, idCount);
    }

    static List<string> PreTokenizerPatterns(JsonNode? node, string path, out bool byteLevel)
    {
        byteLevel = false;
        var patterns = new List<string>();
        var steps = node is JsonObject o && (string?)o["type"] == "Sequence" ? o["pretokenizers"]!.AsArray().Cast<JsonObject>().ToList()
            : node is JsonObject single ? new List<JsonObject> { single } : new List<JsonObject>();
        foreach (var step in steps)
        {
            switch ((string?)step["type"])
            {
                case "ByteLevel":
                    byteLevel = true;
                    if (step["use_regex"] is not JsonValue ur || ur.GetValue<bool>()) patterns.Add(SplitPreTokenizer.Gpt2Pattern);
                    if (step["add_prefix_space"] is JsonValue aps && aps.GetValue<bool>())
                        throw new ModelLoadException(path, "ByteLevel add_prefix_space is not supported");
                    break;
                case "Split":
                    string behavior = (string?)step["behavior"] ?? "Isolated";
                    if (behavior != "Isolated" || (step["invert"] is JsonValue inv && inv.GetValue<bool>()))
                        throw new ModelLoadException(path, $"Split behaviour '{behavior}' is not supported (only Isolated)");
                    var pattern = step["pattern"]!.AsObject();
                    patterns.Add(pattern["Regex"] is JsonValue rx ? rx.GetValue<string>() : System.Text.RegularExpressions.Regex.Escape(pattern["String"]!.GetValue<string>()));
                    break;
                case "Digits":
                    patterns.Add(step["individual_digits"] is JsonValue id && id.GetValue<bool>() ? @"\p{N}" : @"\p{N}+");
                    break;
                default:
                    throw new ModelLoadException(path, $"pre-tokenizer '{step["type"]}' is not supported");
            }
        }
        return patterns;
    }

    /// <summary>Token ids of plain text. Strings that look like control tokens are encoded as ordinary text.</summary>
    public IReadOnlyList<int> Encode(string text)
    {
        if (text.Length == 0) return Array.Empty<int>();
        return _bpe.EncodeToIds(_nfc ? text.Normalize(NormalizationForm.FormC) : text, considerPreTokenization: true, considerNormalization: true);
    }

    /// <summary>Text of the ids; control tokens are dropped unless <paramref name="keepSpecial"/>.</summary>
    public string Decode(IEnumerable<int> ids, bool keepSpecial = false)
    {
        var sb = new StringBuilder();
        var run = new List<int>();
        foreach (int id in ids)
        {
            if (_specialById.TryGetValue(id, out var special))
            {
                if (run.Count > 0) { sb.Append(_bpe.Decode(run)); run.Clear(); }
                if (keepSpecial) sb.Append(special);
            }
            else run.Add(id);
        }
        if (run.Count > 0) sb.Append(_bpe.Decode(run));
        return sb.ToString();
    }

    public int SpecialId(string token) =>
        Specials.TryGetValue(token, out int id) ? id : throw new KeyNotFoundException($"the tokenizer has no special token {token}");

    public bool IsSpecial(int id) => _specialById.ContainsKey(id);
}
