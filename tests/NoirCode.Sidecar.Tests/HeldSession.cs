using NoirCode.Core.Generation;

namespace NoirCode.Sidecar.Tests;

/// <summary>A session that holds its first prompt until released, and tells when it was disposed.</summary>
public sealed class HeldSession(IInferenceSession inner) : IInferenceSession
{
    readonly SemaphoreSlim _release = new(0);
    public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public volatile bool Disposed;
    int _held;
    public long Length => inner.Length;
    public float[] Append(IReadOnlyList<int> ids) { Hold(); return inner.Append(ids); }
    public float[][] AppendEach(IReadOnlyList<int> ids) { Hold(); return inner.AppendEach(ids); }
    void Hold()
    {
        if (Interlocked.Exchange(ref _held, 1) != 0) return;
        Entered.TrySetResult();
        _release.Wait(TimeSpan.FromSeconds(30));
    }
    public void Release() => _release.Release();
    public void Truncate(long length) { if (!Disposed) inner.Truncate(length); }
    public void Dispose() { Disposed = true; inner.Dispose(); }
}
