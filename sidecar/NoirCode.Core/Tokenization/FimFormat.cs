namespace NoirCode.Core.Tokenization;

/// <summary>
/// The fill-in-the-middle control tokens of a model family. Prompts are built from ids, never by pasting
/// token strings into text, so code that happens to contain "&lt;|fim_middle|&gt;" cannot act as a control token.
/// </summary>
public sealed record FimFormat(string Name, int Prefix, int Suffix, int Middle)
{
    /// <summary>Known families: (name, prefix token, suffix token, middle token).</summary>
    public static readonly (string Name, string Prefix, string Suffix, string Middle)[] Known =
    {
        ("qwen", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"),
        ("starcoder", "<fim_prefix>", "<fim_suffix>", "<fim_middle>"),
        ("deepseek", "<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"),
        ("codellama", "▁<PRE>", "▁<SUF>", "▁<MID>"),
    };

    public static FimFormat? Detect(IReadOnlyDictionary<string, int> specials)
    {
        foreach (var k in Known)
            if (specials.TryGetValue(k.Prefix, out int p) && specials.TryGetValue(k.Suffix, out int s) && specials.TryGetValue(k.Middle, out int m))
                return new FimFormat(k.Name, p, s, m);
        return null;
    }

    /// <summary>Prefix-suffix-middle order: [PRE] prefix [SUF] suffix [MID] → the model writes the middle.</summary>
    public List<int> BuildPsm(IReadOnlyList<int> prefix, IReadOnlyList<int> suffix)
    {
        var ids = new List<int>(prefix.Count + suffix.Count + 3) { Prefix };
        ids.AddRange(prefix);
        ids.Add(Suffix);
        ids.AddRange(suffix);
        ids.Add(Middle);
        return ids;
    }

    /// <summary>Suffix-prefix-middle order (used in training mixes): [SUF] suffix [PRE] prefix [MID].</summary>
    public List<int> BuildSpm(IReadOnlyList<int> prefix, IReadOnlyList<int> suffix)
    {
        var ids = new List<int>(prefix.Count + suffix.Count + 3) { Suffix };
        ids.AddRange(suffix);
        ids.Add(Prefix);
        ids.AddRange(prefix);
        ids.Add(Middle);
        return ids;
    }
}
