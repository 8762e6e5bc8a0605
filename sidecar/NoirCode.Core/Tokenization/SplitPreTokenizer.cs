using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace NoirCode.Core.Tokenization;

/// <summary>
/// A Hugging Face "Sequence" of pre-tokenizers: each regex split (behaviour "Isolated": matches and the text
/// between them both become pieces) is applied to the pieces of the one before. DeepSeek-Coder chains five.
/// </summary>
public sealed class SplitPreTokenizer : PreTokenizer
{
    /// <summary>GPT-2's pattern, used by a ByteLevel pre-tokenizer with use_regex.</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>Qwen2's pattern (also ours): digits one at a time, so numbers tokenise uniformly.</summary>
    public const string Qwen2Pattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    readonly IReadOnlyList<Regex> _splits;
    public IReadOnlyList<string> Patterns => _splits.Select(r => r.ToString()).ToArray();

    public SplitPreTokenizer(IEnumerable<string> patterns)
    {
        _splits = patterns.Select(p => new Regex(p, RegexOptions.Compiled | RegexOptions.CultureInvariant)).ToArray();
    }

    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) => PreTokenize(text.AsSpan());

    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text)
    {
        string s = text.ToString();
        IEnumerable<(int Offset, int Length)> pieces = new[] { (0, s.Length) };
        foreach (var regex in _splits) pieces = pieces.SelectMany(p => Split(regex, s, p.Offset, p.Length)).ToList();
        return pieces.Where(p => p.Length > 0).ToList();
    }

    static IEnumerable<(int, int)> Split(Regex regex, string s, int offset, int length)
    {
        int pos = offset, end = offset + length;
        for (var m = regex.Match(s, offset, length); m.Success; m = m.NextMatch())
        {
            if (m.Length == 0) continue;
            if (m.Index > pos) yield return (pos, m.Index - pos);
            yield return (m.Index, m.Length);
            pos = m.Index + m.Length;
        }
        if (pos < end) yield return (pos, end - pos);
    }
}
