namespace NoirCode.Sidecar.Runtime;

/// <summary>
/// Holds the runtime in use and swaps it atomically. A request leases the runtime it starts with and keeps it
/// until it ends, whatever is swapped in meanwhile; a runtime swapped out is disposed when its last lease ends
/// (at once when none is held), so nothing is disposed under a request.
/// </summary>
public sealed class RuntimeSlot : IDisposable
{
    readonly object _lock = new();
    Holder? _current;

    /// <returns>a lease on the runtime in use, or null when there is none</returns>
    public RuntimeLease? Acquire() { lock (_lock) return _current?.Lease(); }

    public bool Holds(LoadedRuntime runtime) { lock (_lock) return ReferenceEquals(_current?.Runtime, runtime); }

    /// <summary>Puts <paramref name="next"/> (null: none) in place of the runtime in use, which retires.</summary>
    public void Swap(LoadedRuntime? next)
    {
        Holder? old;
        lock (_lock) { old = _current; _current = next == null ? null : new Holder(next); }
        old?.Retire();
    }

    public void Dispose() => Swap(null);

    /// <summary>A runtime and its users: the slot itself while it holds it, and each lease.</summary>
    sealed class Holder(LoadedRuntime runtime)
    {
        int _users = 1;
        public LoadedRuntime Runtime => runtime;
        // Called under the slot's lock while the slot still holds it, so never after the count reached zero.
        public RuntimeLease Lease() { Interlocked.Increment(ref _users); return new RuntimeLease(runtime, Release); }
        public void Retire() { runtime.Retire(); Release(); }
        void Release() { if (Interlocked.Decrement(ref _users) == 0) runtime.Dispose(); }
    }
}

/// <summary>One user's hold on a runtime: it stays undisposed until every lease on it is disposed.</summary>
public sealed class RuntimeLease(LoadedRuntime runtime, Action release) : IDisposable
{
    int _released;
    public LoadedRuntime Runtime => runtime;
    public void Dispose() { if (Interlocked.Exchange(ref _released, 1) == 0) release(); }
}
