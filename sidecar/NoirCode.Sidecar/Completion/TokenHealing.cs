using NoirCode.Core.Generation;
using NoirCode.Core.Tokenization;

namespace NoirCode.Sidecar.Completion;

/// <summary>
/// Token healing: a prompt cut at the cursor ends in a token the model rarely saw in that place. The byte-level
/// pre-tokenizer attaches a space or a bracket to the word after it (" radius", "(self"), so a prefix ending in
/// "return " or "len(" ends in a lone " " or "(" that training text almost never has before a word; the bundled
/// model then answers with end-of-text, a newline or a word fragment ("lf" after "("). The last prefix token is
/// left out of the prompt and the first generated tokens are constrained to spell its text again, so the model
/// picks the natural tokenisation across the cursor (after guidance's token healing).
/// </summary>
public sealed class TokenHealing
{
    readonly string[] _texts;

    public TokenHealing(CodeTokenizer tokenizer)
    {
        var special = tokenizer.Specials.Values.Concat(tokenizer.EndTokens).ToHashSet();
        _texts = new string[tokenizer.IdCount];
        for (int id = 0; id < _texts.Length; id++)
            _texts[id] = special.Contains(id) ? "" : tokenizer.Decode(new[] { id });
    }

    /// <summary>Longest text healed: a longer last token (a long identifier) is left as it is.</summary>
    public const int MaxHealedChars = 16;

    /// <summary>Splits off the prefix's last token to heal, when it is worth healing.</summary>
    /// <returns>the prefix ids to keep and the text to spell again (empty: nothing to heal)</returns>
    public (List<int> Kept, string Healed) Split(List<int> prefix)
    {
        if (prefix.Count < 2) return (prefix, "");
        string text = _texts[prefix[^1]];
        if (text.Length == 0 || text.Length > MaxHealedChars || text.Contains('\uFFFD')) return (prefix, "");
        return (prefix.GetRange(0, prefix.Count - 1), text);
    }

    /// <summary>The most likely token that is consistent with <paramref name="remaining"/>: it starts with all of it,
    /// or it is a start of it (more tokens follow); -1 when no token is.</summary>
    public int Best(float[] logits, string remaining)
    {
        int best = -1;
        float bestLogit = float.NegativeInfinity;
        for (int id = 0; id < _texts.Length && id < logits.Length; id++)
        {
            string t = _texts[id];
            if (t.Length == 0 || logits[id] <= bestLogit) continue;
            // Healed whitespace must lead into text: spelling it alone again would leave the model where it was.
            if (t == remaining && remaining.Trim().Length == 0) continue;
            if (remaining.StartsWith(t, StringComparison.Ordinal) || (t.StartsWith(remaining, StringComparison.Ordinal) && !MoreSpace(remaining, t)))
            { best = id; bestLogit = logits[id]; }
        }
        return best;
    }

    public string Text(int id) => _texts[id];

    /// <summary>
    /// Appends <paramref name="prompt"/> (which ends before the healed text), picks the tokens that spell
    /// <paramref name="healed"/> again, and generates on from the last of them.
    /// </summary>
    /// <returns>what follows the healed text, and how generation ended; null when cancelled while spelling</returns>
    public (string Text, GenerationResult Result)? Generate(IInferenceSession session, CodeTokenizer tokenizer, IReadOnlyList<int> prompt, string healed,
        GenerationOptions options, CancellationToken cancel)
    {
        var logits = session.Append(prompt);
        var spelled = new List<int>();
        string remaining = healed;
        while (!cancel.IsCancellationRequested)
        {
            int id = Best(logits, remaining);
            if (id < 0) break;
            spelled.Add(id);
            if (_texts[id].Length >= remaining.Length) break;
            remaining = remaining[_texts[id].Length..];
            logits = session.Append(new[] { id });
        }
        if (spelled.Count == 0 || cancel.IsCancellationRequested) return null;
        var result = TextGenerator.Generate(session, tokenizer, new[] { spelled[^1] },
            options with { MaxTokens = Math.Max(1, options.MaxTokens - spelled.Count) }, cancel);
        // What the spelling tokens wrote beyond the healed text starts the answer.
        string spelledText = tokenizer.Decode(spelled);
        return ((spelledText.StartsWith(healed, StringComparison.Ordinal) ? spelledText[healed.Length..] : "") + result.Text, result);
    }

    /// <summary>A token that adds whitespace after healed whitespace ("return" + 4 spaces): the pre-tokenizer never
    /// splits there, so such a token would only re-indent or pad.</summary>
    static bool MoreSpace(string remaining, string token) =>
        token.Length > remaining.Length && remaining[^1] is ' ' or '\t' && char.IsWhiteSpace(token[remaining.Length]);
}
