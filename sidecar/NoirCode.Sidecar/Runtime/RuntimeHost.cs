using NoirCode.Sidecar.Lsp;

namespace NoirCode.Sidecar.Runtime;

/// <summary>
/// The runtimes the language server runs on: the one the settings ask for, loaded in the background and reloaded
/// when they change what it is, and the whole model for what must not leave this machine, loaded on first need.
/// Requests lease a runtime (<see cref="RuntimeSlot"/>); loads run one at a time, and one overtaken by a newer
/// reload is dropped.
/// </summary>
public sealed class RuntimeHost(IRuntimeFactory factory, Action<string> log) : IDisposable
{
    readonly RuntimeSlot _main = new(), _whole = new();
    readonly SemaphoreSlim _loads = new(1, 1);
    readonly object _wholeLock = new();
    volatile Task _loading = Task.CompletedTask;
    volatile bool _disposed;
    int _generation;

    /// <summary>
    /// Retires the runtimes in use (each disposed once its last request is done) and loads the one
    /// <paramref name="load"/> makes (null: none); requests from now on wait for it.
    /// </summary>
    public Task Reload(Func<IRuntimeFactory, LoadedRuntime?> load)
    {
        int generation = Interlocked.Increment(ref _generation);
        _whole.Swap(null);
        _main.Swap(null);
        var loading = Task.Run(async () =>
        {
            await _loads.WaitAsync();
            try
            {
                if (generation != Volatile.Read(ref _generation)) return; // a newer reload replaces this one
                var next = load(factory);
                if (generation == Volatile.Read(ref _generation) && !_disposed) _main.Swap(next);
                else next?.Dispose();
            }
            catch (Exception e) { log($"model failed to load: {e.GetType().Name}"); } // requests find none loaded
            finally { _loads.Release(); }
        });
        _loading = loading;
        return loading;
    }

    /// <summary>A lease on the runtime in use, once the load under way (if any) is done; null when none is loaded.</summary>
    public async Task<RuntimeLease?> AcquireAsync(CancellationToken cancel)
    {
        try { await _loading.WaitAsync(cancel); }
        catch (OperationCanceledException) { }
        return _main.Acquire();
    }

    /// <summary>A lease on the runtime in use now, without waiting for a load.</summary>
    public RuntimeLease? TryAcquire() => _main.Acquire();

    public bool IsCurrent(LoadedRuntime runtime) => _main.Holds(runtime);

    /// <summary>Settings that change while the model stays loaded (<see cref="LoadedRuntime.Apply"/>).</summary>
    public void Apply(SidecarSettings settings)
    {
        using var lease = _main.Acquire();
        lease?.Runtime.Apply(settings);
    }

    /// <summary>A lease on the whole model on this machine, loaded on first need; null when there is none.</summary>
    public RuntimeLease? AcquireWholeModel(SidecarSettings settings)
    {
        lock (_wholeLock)
        {
            if (_whole.Acquire() is { } lease) return lease;
            try
            {
                if (factory.LoadWholeModel(settings) is not { } loaded) return null;
                _whole.Swap(loaded);
                log("whole model loaded for local-only completions");
                return _whole.Acquire();
            }
            catch (Exception e) when (e is IOException or ArgumentException or Core.Util.ModelLoadException)
            {
                log($"no local model: {e.Message}");
                return null;
            }
        }
    }

    /// <summary>The whole model goes (localModelFolder changed); the next need loads it again.</summary>
    public void DropWholeModel() => _whole.Swap(null);

    public void Dispose()
    {
        _disposed = true;
        Interlocked.Increment(ref _generation); // a load under way is dropped when it ends
        _whole.Swap(null);
        _main.Swap(null);
    }
}
