namespace NoirCode.Core.Generation;

/// <summary>
/// One sequence being generated, with its KV caches warm. Tokens are appended in chunks (the prompt, then one
/// at a time); each call returns the next-token logits after the last appended token.
/// </summary>
public interface IInferenceSession : IDisposable
{
    /// <summary>Positions processed so far.</summary>
    long Length { get; }

    /// <summary>Appends tokens at positions [Length, Length + n) and returns float32 logits [V] for the next token.</summary>
    float[] Append(IReadOnlyList<int> ids);

    /// <summary>
    /// Appends tokens like <see cref="Append"/> and returns the next-token logits after each of them: row i follows
    /// ids[i]. Speculative decoding verifies a whole draft this way in one step (one round trip when split).
    /// The default appends one token at a time, which gives the same rows at the cost of a step per token.
    /// </summary>
    float[][] AppendEach(IReadOnlyList<int> ids) => ids.Select(id => Append(new[] { id })).ToArray();

    /// <summary>Forgets every position from <paramref name="length"/> on (an edit, a cancelled generation).</summary>
    void Truncate(long length);
}
