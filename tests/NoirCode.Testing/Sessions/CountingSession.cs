using NoirCode.Core.Generation;

namespace NoirCode.Testing.Sessions;

/// <summary>Wraps a session and counts the tokens appended: what a split session would send.</summary>
public sealed class CountingSession(IInferenceSession inner) : IInferenceSession
{
    public int Appended { get; private set; }
    /// <summary>Appends (a batch verified at once counts as one).</summary>
    public int Calls { get; private set; }
    /// <summary>The first append: on a fresh session, the whole prompt.</summary>
    public IReadOnlyList<int>? First { get; private set; }
    public long Length => inner.Length;
    public float[] Append(IReadOnlyList<int> ids) { Appended += ids.Count; Calls++; First ??= ids.ToArray(); return inner.Append(ids); }
    public float[][] AppendEach(IReadOnlyList<int> ids) { Appended += ids.Count; Calls++; return inner.AppendEach(ids); }
    public void Truncate(long length) => inner.Truncate(length);
    public void Dispose() => inner.Dispose();
}
