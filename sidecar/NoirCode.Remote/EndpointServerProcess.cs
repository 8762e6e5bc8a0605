using System.Diagnostics;

namespace NoirCode.Remote;

/// <summary>
/// `noir cloud serve` as a child process: started, read for the address it prints as its first line, and then
/// both of its output streams drained for as long as it runs. An undrained pipe fills after about 64 KiB and the
/// endpoint's next write blocks, which once froze an endpoint after a few hundred sessions of log lines.
/// </summary>
public sealed class EndpointServerProcess : IDisposable
{
    const string Ready = "listening on ";
    readonly Process _process;
    public Uri Address { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;

    EndpointServerProcess(Process process, Uri address) { _process = process; Address = address; }

    /// <param name="noirDll">the `noir` CLI's dll (run with `dotnet`), or the endpoint's own `noir-endpoint.dll`</param>
    /// <param name="serveArguments">what follows `cloud serve` (`serve` for noir-endpoint.dll) (`--shard`, `--port`, …)</param>
    /// <param name="onLogLine">each line the endpoint logs (on either stream); null: discarded</param>
    public static EndpointServerProcess Start(string noirDll, IEnumerable<string> serveArguments,
        IReadOnlyDictionary<string, string>? environment = null, Action<string>? onLogLine = null, TimeSpan? startTimeout = null)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        string[] serve = Path.GetFileName(noirDll) == "noir-endpoint.dll" ? new[] { "serve" } : new[] { "cloud", "serve" };
        foreach (var a in new[] { noirDll }.Concat(serve).Concat(serveArguments)) psi.ArgumentList.Add(a);
        var process = Process.Start(psi) ?? throw new IOException("could not start noir cloud serve");
        process.ErrorDataReceived += (_, e) => { if (e.Data != null) onLogLine?.Invoke(e.Data); };
        process.BeginErrorReadLine();
        string? first;
        try { first = process.StandardOutput.ReadLineAsync().WaitAsync(startTimeout ?? TimeSpan.FromSeconds(60)).GetAwaiter().GetResult(); }
        catch (TimeoutException) { first = null; }
        if (first == null || !first.StartsWith(Ready, StringComparison.Ordinal))
        {
            try { process.Kill(true); } catch (InvalidOperationException) { }
            process.Dispose();
            throw new IOException("noir cloud serve did not start" + (first == null ? "" : $": {first}"));
        }
        // The rest of stdout: drained (after the first line, nothing but log output is expected there).
        _ = Task.Run(async () =>
        {
            try { while (await process.StandardOutput.ReadLineAsync() is { } line) onLogLine?.Invoke(line); }
            catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException) { }
        });
        return new EndpointServerProcess(process, new Uri(first[Ready.Length..].Trim()));
    }

    /// <summary>SIGKILL: the endpoint gets no chance to clean up.</summary>
    public void KillHard()
    {
        try { if (!_process.HasExited) { _process.Kill(true); _process.WaitForExit(5000); } }
        catch (InvalidOperationException) { }
    }

    public void Dispose()
    {
        KillHard();
        _process.Dispose();
    }
}
