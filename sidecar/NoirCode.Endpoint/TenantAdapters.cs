using NoirCode.Core.Model;
using NoirCode.Core.Split;
using TorchSharp;

namespace NoirCode.Endpoint;

/// <summary>
/// Per-tenant adapters, created on first training use, saved under the state folder after every step (owner-only
/// files) and loaded again at start. They are used for that tenant's sessions once trained, and never sent to
/// anyone. All access happens on the model worker thread.
/// A tenant has one adapter per adapter id the client names (one per privacy key, so a rotated key trains a fresh
/// one: tenants/T/adapters/ID/); the empty id is the tenant's unnamed adapter (tenants/T/), as before ids existed.
/// </summary>
public sealed class TenantAdapters
{
    readonly Dictionary<string, TenantAdapter> _adapters = new();
    readonly EndpointOptions _options;
    readonly CloudShard _shard;

    public TenantAdapters(EndpointOptions options, CloudShard shard) { _options = options; _shard = shard; }

    /// <summary>Adapter ids are file names under the state folder: nothing that could climb out of it.</summary>
    public static bool IsAdapterId(string id) => id.Length <= 64 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    static string Key(string tenant, string adapterId) => tenant + "/" + adapterId;

    string? PathFor(string tenant, string adapterId) => _options.StateFolder == null ? null
        : adapterId.Length == 0 ? Path.Combine(_options.StateFolder, "tenants", tenant, "adapter.safetensors")
        : Path.Combine(_options.StateFolder, "tenants", tenant, "adapters", adapterId, "adapter.safetensors");

    public TenantAdapter GetOrCreate(string tenant, double learningRate, string adapterId = "")
    {
        if (!IsAdapterId(adapterId)) throw new ArgumentException($"'{adapterId}' is not an adapter id (letters, digits, - and _, at most 64)");
        string key = Key(tenant, adapterId);
        if (_adapters.TryGetValue(key, out var existing)) return existing;
        var layers = Enumerable.Range(_shard.Middle.First, _shard.Middle.Count);
        var adapter = new LoraAdapter(_shard.Config, layers, _options.LoraRank, seed: key.GetHashCode(StringComparison.Ordinal));
        long steps = 0;
        if (PathFor(tenant, adapterId) is { } path && File.Exists(path))
        {
            adapter.Load(path);
            steps = File.Exists(path + ".steps") ? long.Parse(File.ReadAllText(path + ".steps")) : 1;
        }
        var optimizer = new Core.Training.AdamW(adapter.parameters(), learningRate > 0 ? learningRate : _options.LearningRate);
        return _adapters[key] = new TenantAdapter { Adapter = adapter, Optimizer = optimizer, Steps = steps };
    }

    /// <summary>The adapter a session of this tenant runs with: only once it has been trained.</summary>
    public LoraAdapter? ForInference(string tenant, string adapterId = "")
    {
        if (_adapters.TryGetValue(Key(tenant, adapterId), out var t)) return t.Steps > 0 ? t.Adapter : null;
        if (PathFor(tenant, adapterId) is { } path && File.Exists(path)) return GetOrCreate(tenant, 0, adapterId).Adapter;
        return null;
    }

    public void Save(string tenant, string adapterId = "")
    {
        if (PathFor(tenant, adapterId) is not { } path || !_adapters.TryGetValue(Key(tenant, adapterId), out var t)) return;
        var folder = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        t.Adapter.Save(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(path + ".steps", t.Steps.ToString());
    }
}
