using NoirCode.Core.Model;
using NoirCode.Core.Split;

namespace NoirCode.Bench.Infrastructure;

/// <summary>What every suite needs: the repository, quick or full, the bundled model, and its split made once.</summary>
public sealed class BenchContext : IDisposable
{
    public string Repo { get; }
    public bool Quick { get; }
    public string Suite { get; }
    /// <summary>Scratch space for this run (split shards, ledgers, caches); removed at the end.</summary>
    public string Work { get; }
    public string Model { get; }
    readonly Lazy<(string Client, string Cloud)> _split;

    public BenchContext(string repo, string suite, bool quick)
    {
        Repo = repo; Suite = suite; Quick = quick;
        Model = Path.Combine(repo, "models", "noir-coder-8m");
        if (!File.Exists(Path.Combine(Model, "config.json"))) throw new FileNotFoundException($"the bundled model is missing: {Model}");
        Work = Directory.CreateTempSubdirectory("noir-bench-").FullName;
        // Nothing a benchmark does may touch the user's real ledger or shard cache.
        Environment.SetEnvironmentVariable("NOIR_LEDGER_DIR", Path.Combine(Work, "ledger"));
        Environment.SetEnvironmentVariable("XDG_CACHE_HOME", Path.Combine(Work, "cache"));
        _split = new(() =>
        {
            string client = Path.Combine(Work, "client"), cloud = Path.Combine(Work, "cloud");
            ModelSplitter.Split(Model, client, cloud, SplitSpec.Default);
            return (client, cloud);
        });
    }

    /// <summary>The bundled model split at the default point (client: embedding, 1 + 4 blocks, head; cloud: the middle).</summary>
    public string ClientShard => _split.Value.Client;
    public string CloudShard => _split.Value.Cloud;

    /// <summary>The `noir` CLI built beside this benchmark.</summary>
    public static string NoirDll => Path.Combine(AppContext.BaseDirectory, "noir.dll");

    public string Command(string extra = "") => $"`scripts/bench {Suite}{(Quick ? " --quick" : "")}{extra}`";

    public void Dispose() { try { Directory.Delete(Work, true); } catch (IOException) { } }
}
