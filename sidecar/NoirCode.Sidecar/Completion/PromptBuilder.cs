using NoirCode.Core.Tokenization;

namespace NoirCode.Sidecar.Completion;

/// <summary>
/// The one place a prompt is cut from a document: inline completion, Generate Function and the security report
/// all build theirs here, so the report attacks exactly the ids a completion at that cursor sends.
/// Only text near the cursor is tokenised (a character cut), then the prefix is cut to its token budget from the
/// start. Both cuts move in steps, so that while the user types at the end the prompt's start stays put and the
/// session's KV cache stays reusable.
/// </summary>
public sealed class PromptBuilder
{
    /// <summary>Characters per token that are surely enough: only this much text around the cursor is tokenised.</summary>
    public const int MaxCharsPerToken = 16;
    /// <summary>Steps of the cuts at the prefix's start, in characters and in tokens.</summary>
    public const int CharStep = 4096, TokenStep = 64;

    readonly CodeTokenizer _tokenizer;
    readonly FimFormat _fim;
    readonly Lazy<TokenHealing> _healing;

    public PromptBuilder(CodeTokenizer tokenizer)
    {
        _tokenizer = tokenizer;
        _fim = tokenizer.Fim ?? throw new ArgumentException("the model's tokenizer has no fill-in-the-middle tokens");
        _healing = new(() => new TokenHealing(tokenizer));
    }

    /// <summary>Token healing for this tokenizer (built on first use: it decodes the whole vocabulary).</summary>
    public TokenHealing Healing => _healing.Value;

    public FimPrompt Build(string document, int cursor, PromptShape shape) =>
        Build(document.AsSpan(0, cursor), document.AsSpan(cursor), shape);

    /// <summary>The prompt for the cursor between <paramref name="prefix"/> and <paramref name="suffix"/>; offsets
    /// in the result are in prefix + suffix.</summary>
    public FimPrompt Build(ReadOnlySpan<char> prefix, ReadOnlySpan<char> suffix, PromptShape shape)
    {
        int budget = Math.Max(0, shape.Budget);
        int cursor = prefix.Length;
        int tokenisedFrom = CharCut(prefix, budget * MaxCharsPerToken);
        var prefixIds = _tokenizer.Encode(prefix[tokenisedFrom..].ToString()).ToList();
        var suffixIds = _tokenizer.Encode(suffix[..Math.Min(suffix.Length, budget * MaxCharsPerToken)].ToString()).ToList();

        int suffixBudget = Math.Max(0, Math.Min(suffixIds.Count, (int)(budget * shape.SuffixShare)));
        if (suffixIds.Count > suffixBudget) suffixIds.RemoveRange(suffixBudget, suffixIds.Count - suffixBudget);
        int prefixBudget = budget - suffixIds.Count;
        // A step no longer than the prefix's budget leaves some prefix however small the budget.
        int tokenStep = Math.Max(1, Math.Min(TokenStep, prefixBudget));
        int dropped = prefixIds.Count > prefixBudget ? Math.Min(prefixIds.Count, (prefixIds.Count - prefixBudget + tokenStep - 1) / tokenStep * tokenStep) : 0;
        int prefixStart = tokenisedFrom + (dropped > 0 ? _tokenizer.Decode(prefixIds.GetRange(0, dropped)).Length : 0);
        prefixIds.RemoveRange(0, dropped);

        var (kept, healed) = shape.HealLastToken ? Healing.Split(prefixIds) : (prefixIds, "");
        var ids = shape.Order == FimOrder.SuffixPrefixMiddle ? _fim.BuildSpm(kept, suffixIds) : _fim.BuildPsm(kept, suffixIds);
        int suffixEnd = cursor + _tokenizer.Decode(suffixIds).Length;
        return new FimPrompt(ids, tokenisedFrom, Math.Min(prefixStart, cursor), cursor, healed, Math.Min(suffixEnd, cursor + suffix.Length));
    }

    /// <summary>Where tokenising starts so that at most about <paramref name="maxChars"/> of the prefix are: a
    /// multiple of the step, moved on to the next line start.</summary>
    static int CharCut(ReadOnlySpan<char> prefix, int maxChars)
    {
        if (prefix.Length <= maxChars) return 0;
        // A step no longer than the window keeps the cut inside the prefix for small budgets too.
        int step = Math.Max(1, Math.Min(CharStep, maxChars));
        int cut = (prefix.Length - maxChars + step - 1) / step * step;
        int newline = prefix[cut..].IndexOf('\n');
        return newline >= 0 ? cut + newline + 1 : cut;
    }
}
