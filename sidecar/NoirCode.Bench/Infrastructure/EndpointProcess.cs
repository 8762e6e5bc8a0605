using System.Diagnostics;

namespace NoirCode.Bench.Infrastructure;

/// <summary>`noir cloud serve` as a child process on loopback, ready once it prints its address.</summary>
public sealed class EndpointProcess : IDisposable
{
    readonly Process _process;
    public Uri Address { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;

    EndpointProcess(Process process, Uri address) { _process = process; Address = address; }

    public static EndpointProcess Start(string shard, int port = 0, params string[] extra) => Start(shard, null, port, extra);

    /// <param name="environment">extra environment variables for the process (e.g. OpenMP settings)</param>
    public static EndpointProcess Start(string shard, IReadOnlyDictionary<string, string>? environment, int port = 0, params string[] extra)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        foreach (var a in new[] { BenchContext.NoirDll, "cloud", "serve", "--shard", shard, "--port", port.ToString() }.Concat(extra)) psi.ArgumentList.Add(a);
        var p = Process.Start(psi) ?? throw new IOException("could not start noir cloud serve");
        p.ErrorDataReceived += (_, _) => { };
        p.BeginErrorReadLine();
        string? line = p.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60)).GetAwaiter().GetResult();
        if (line == null || !line.StartsWith("listening on ", StringComparison.Ordinal)) { p.Kill(true); throw new IOException("noir cloud serve did not start"); }
        return new EndpointProcess(p, new Uri(line["listening on ".Length..].Trim()));
    }

    public long ResidentBytes => ProcessMemory.ResidentBytes(_process.Id);

    /// <summary>SIGKILL: no chance to clean up.</summary>
    public void KillHard() { if (!_process.HasExited) { _process.Kill(); _process.WaitForExit(); } }

    public void Dispose()
    {
        try { KillHard(); } catch (InvalidOperationException) { }
        _process.Dispose();
    }
}
