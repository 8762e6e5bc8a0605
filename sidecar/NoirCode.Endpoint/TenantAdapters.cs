using NoirCode.Core.Model;
using TorchSharp;

namespace NoirCode.Endpoint;

/// <summary>A tenant's LoRA on the middle blocks, its optimiser state, and how many steps it has taken.</summary>
public sealed class TenantAdapter
{
    public required LoraAdapter Adapter { get; init; }
    public required Core.Training.AdamW Optimizer { get; init; }
    public long Steps { get; set; }
    public int PendingSamples { get; set; }
}

/// <summary>
/// Per-tenant adapters, created on first training use, saved under the state folder after every step (owner-only
/// files) and loaded again at start. They are used for that tenant's sessions once trained, and never sent to
/// anyone. All access happens on the model worker thread.
/// </summary>
public sealed class TenantAdapters
{
    readonly Dictionary<string, TenantAdapter> _adapters = new();
    readonly EndpointOptions _options;
    readonly CloudShard _shard;

    public TenantAdapters(EndpointOptions options, CloudShard shard) { _options = options; _shard = shard; }

    string? PathFor(string tenant) => _options.StateFolder == null ? null : Path.Combine(_options.StateFolder, "tenants", tenant, "adapter.safetensors");

    public TenantAdapter GetOrCreate(string tenant, double learningRate)
    {
        if (_adapters.TryGetValue(tenant, out var existing)) return existing;
        var layers = Enumerable.Range(_shard.Middle.First, _shard.Middle.Count);
        var adapter = new LoraAdapter(_shard.Config, layers, _options.LoraRank, seed: tenant.GetHashCode(StringComparison.Ordinal));
        long steps = 0;
        if (PathFor(tenant) is { } path && File.Exists(path))
        {
            adapter.Load(path);
            steps = File.Exists(path + ".steps") ? long.Parse(File.ReadAllText(path + ".steps")) : 1;
        }
        var optimizer = new Core.Training.AdamW(adapter.parameters(), learningRate > 0 ? learningRate : _options.LearningRate);
        return _adapters[tenant] = new TenantAdapter { Adapter = adapter, Optimizer = optimizer, Steps = steps };
    }

    /// <summary>The adapter a session of this tenant runs with: only once it has been trained.</summary>
    public LoraAdapter? ForInference(string tenant)
    {
        if (_adapters.TryGetValue(tenant, out var t)) return t.Steps > 0 ? t.Adapter : null;
        if (PathFor(tenant) is { } path && File.Exists(path)) return GetOrCreate(tenant, 0).Adapter;
        return null;
    }

    public void Save(string tenant)
    {
        if (PathFor(tenant) is not { } path || !_adapters.TryGetValue(tenant, out var t)) return;
        var folder = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        t.Adapter.Save(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(path + ".steps", t.Steps.ToString());
    }
}
