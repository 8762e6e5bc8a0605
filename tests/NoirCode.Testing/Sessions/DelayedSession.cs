using NoirCode.Core.Generation;

namespace NoirCode.Testing.Sessions;

/// <summary>
/// A session that takes time, as a far endpoint does: the first append (the prefill) waits <paramref name="prefillMs"/>,
/// every later one (a step, one token or a speculative batch) <paramref name="stepMs"/>.
/// </summary>
public sealed class DelayedSession(IInferenceSession inner, int prefillMs, int stepMs) : IInferenceSession
{
    bool _prefilled;
    public long Length => inner.Length;
    public float[] Append(IReadOnlyList<int> ids) { Wait(); return inner.Append(ids); }
    public float[][] AppendEach(IReadOnlyList<int> ids) { Wait(); return inner.AppendEach(ids); }
    void Wait()
    {
        Thread.Sleep(_prefilled ? stepMs : prefillMs);
        _prefilled = true;
    }
    public void Truncate(long length) => inner.Truncate(length);
    public void Dispose() => inner.Dispose();
}
