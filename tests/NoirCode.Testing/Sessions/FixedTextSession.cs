using NoirCode.Core.Generation;
using NoirCode.Core.Tokenization;

namespace NoirCode.Testing.Sessions;

/// <summary>
/// A model that writes <paramref name="text"/> (then the end token) after whatever prompt it gets, so checks of
/// the cache, type-through or healing do not depend on random weights.
/// </summary>
/// <remarks>Its output depends on the position after the prompt, as a model's would, so rolling it back (speculative
/// decoding's rejected drafts) rolls its output back too. A prompt is an append of more than one token.</remarks>
public sealed class FixedTextSession(CodeTokenizer tok, string text) : IInferenceSession
{
    readonly List<int> _ids = tok.Encode(text).Append(tok.SpecialId("<|endoftext|>")).ToList();
    long _promptEnd;
    public int Calls { get; private set; }
    public List<int> LastPrompt { get; } = new();
    public long Length { get; private set; }

    public float[] Append(IReadOnlyList<int> ids)
    {
        Calls++;
        Length += ids.Count;
        if (ids.Count > 1) { _promptEnd = Length; LastPrompt.Clear(); LastPrompt.AddRange(ids); }
        var logits = new float[tok.IdCount];
        logits[_ids[(int)Math.Min(Length - _promptEnd, _ids.Count - 1)]] = 1;
        return logits;
    }

    public void Truncate(long length) => Length = length;
    public void Dispose() { }
}
