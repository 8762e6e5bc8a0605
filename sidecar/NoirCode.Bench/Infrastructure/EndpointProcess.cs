using NoirCode.Remote;

namespace NoirCode.Bench.Infrastructure;

/// <summary>`noir cloud serve` on loopback for a benchmark, with its memory readable.</summary>
public sealed class EndpointProcess : IDisposable
{
    readonly EndpointServerProcess _process;
    public Uri Address => _process.Address;
    public int Pid => _process.Pid;
    public bool HasExited => _process.HasExited;

    EndpointProcess(EndpointServerProcess process) { _process = process; }

    public static EndpointProcess Start(string shard, int port = 0, params string[] extra) => Start(shard, null, port, extra);

    /// <param name="environment">extra environment variables for the process (e.g. OpenMP settings)</param>
    public static EndpointProcess Start(string shard, IReadOnlyDictionary<string, string>? environment, int port = 0, params string[] extra) =>
        new(EndpointServerProcess.Start(BenchContext.NoirDll, new[] { "--shard", shard, "--port", port.ToString() }.Concat(extra), environment));

    public long ResidentBytes => ProcessMemory.ResidentBytes(_process.Pid);

    /// <summary>SIGKILL: no chance to clean up.</summary>
    public void KillHard() => _process.KillHard();

    public void Dispose() => _process.Dispose();
}
