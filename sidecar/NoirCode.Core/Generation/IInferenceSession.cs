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

    /// <summary>Forgets every position from <paramref name="length"/> on (an edit, a cancelled generation).</summary>
    void Truncate(long length);
}
