namespace NoirCode.Sidecar.Completion;

/// <summary>
/// The newest request wins: starting one cancels the one before it. Cancelling and disposing a request's token
/// source happen under one lock, so no one cancels a source its request is disposing (the lock is re-entrant, so a
/// cancelled request that finishes inline within <see cref="CancellationTokenSource.Cancel()"/> still gets in).
/// </summary>
public sealed class SingleFlight
{
    readonly object _lock = new();
    CancellationTokenSource? _current;

    /// <summary>Starts a request, cancelling the one in flight; dispose what it returns when the request ends.</summary>
    public Flight Begin(CancellationToken cancel)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        lock (_lock)
        {
            var previous = _current;
            _current = source;
            previous?.Cancel();
        }
        return new Flight(this, source);
    }

    /// <summary>Cancels the request in flight, if any (other work wants the session).</summary>
    public void CancelCurrent() { lock (_lock) _current?.Cancel(); }

    void End(CancellationTokenSource source)
    {
        lock (_lock)
        {
            if (ReferenceEquals(_current, source)) _current = null;
            source.Dispose();
        }
    }

    /// <summary>One request's cancellation: by its caller, or by the next request.</summary>
    public sealed class Flight(SingleFlight owner, CancellationTokenSource source) : IDisposable
    {
        int _ended;
        public CancellationToken Token { get; } = source.Token;
        public void Dispose() { if (Interlocked.Exchange(ref _ended, 1) == 0) owner.End(source); }
    }
}
