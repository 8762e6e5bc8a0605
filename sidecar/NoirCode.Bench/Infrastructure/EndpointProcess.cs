using NoirCode.Remote;

namespace NoirCode.Bench.Infrastructure;

/// <summary>`noir cloud serve` on loopback (or a unix socket) for a benchmark, with its memory readable.</summary>
public sealed class EndpointProcess : IDisposable
{
    readonly EndpointServerProcess _process;
    readonly DirectoryInfo? _socketFolder;
    public Uri Address => _process.Address;
    public int Pid => _process.Pid;
    public bool HasExited => _process.HasExited;

    EndpointProcess(EndpointServerProcess process, DirectoryInfo? socketFolder = null) { _process = process; _socketFolder = socketFolder; }

    public static EndpointProcess Start(string shard, int port = 0, params string[] extra) => Start(shard, null, port, extra);

    /// <param name="environment">extra environment variables for the process (e.g. OpenMP settings)</param>
    public static EndpointProcess Start(string shard, IReadOnlyDictionary<string, string>? environment, int port = 0, params string[] extra) =>
        new(EndpointServerProcess.Start(BenchContext.NoirDll, new[] { "--shard", shard, "--port", port.ToString() }.Concat(extra), environment));

    /// <summary>On a unix socket in a fresh owner-only temp folder (as the sidecar's embedded endpoint runs).</summary>
    public static EndpointProcess StartOnUnixSocket(string shard)
    {
        var folder = Directory.CreateTempSubdirectory("noir-bench-uds-"); // 0700
        try { return new(EndpointServerProcess.Start(BenchContext.NoirDll, new[] { "--shard", shard, "--unix-socket", Path.Combine(folder.FullName, "endpoint.sock") }), folder); }
        catch { folder.Delete(true); throw; }
    }

    public long ResidentBytes => ProcessMemory.ResidentBytes(_process.Pid);

    /// <summary>SIGKILL: no chance to clean up.</summary>
    public void KillHard() => _process.KillHard();

    public void Dispose()
    {
        _process.Dispose();
        _socketFolder?.Delete(true); // SIGKILLed, the endpoint leaves its socket
    }
}
