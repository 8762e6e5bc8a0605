using System.Collections.Concurrent;
using System.Diagnostics;

namespace NoirCode.Testing.Lsp;

/// <summary>
/// The real sidecar (`noir lsp`) as a child process, driven over stdio by an <see cref="LspClient"/>. The last lines
/// it wrote to stderr (events and counts, never code) go into every failure message.
/// </summary>
public sealed class LspProcess : LspClient
{
    const int StderrLines = 50;
    readonly Process _process;
    readonly ConcurrentQueue<string> _stderr = new();

    /// <summary>The last lines the sidecar wrote to stderr.</summary>
    public IReadOnlyList<string> StderrTail => _stderr.ToArray();
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;
    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    LspProcess(Process process) : base(process.StandardInput.BaseStream, process.StandardOutput.BaseStream) => _process = process;

    protected override string ServerLog => string.Join("\n", _stderr);

    /// <param name="environment">extra variables (the ledger and cache folders: see <see cref="IsolatedEnvironment"/>)</param>
    /// <param name="noirDll">the CLI to run; default: the noir.dll beside the caller</param>
    public static LspProcess Start(IReadOnlyDictionary<string, string>? environment = null, string noirDll = "")
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(noirDll.Length > 0 ? noirDll : Path.Combine(AppContext.BaseDirectory, "noir.dll"));
        psi.ArgumentList.Add("lsp");
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        var p = Process.Start(psi) ?? throw new IOException("could not start noir lsp");
        var lsp = new LspProcess(p);
        p.ErrorDataReceived += (_, e) =>
        {
            if (e.Data == null) return;
            lsp._stderr.Enqueue(e.Data);
            while (lsp._stderr.Count > StderrLines) lsp._stderr.TryDequeue(out string? _);
        };
        p.BeginErrorReadLine();
        return lsp;
    }

    /// <summary>A sidecar's cache and exposure ledger under <paramref name="root"/>, so a test touches nothing of the user's.</summary>
    public static Dictionary<string, string> IsolatedEnvironment(string root) => new()
    {
        ["XDG_CACHE_HOME"] = Path.Combine(root, "cache"), ["NOIR_LEDGER_DIR"] = Path.Combine(root, "ledger"),
    };

    /// <summary>SIGKILL: no chance to clean up.</summary>
    public void KillHard() { if (!_process.HasExited) { _process.Kill(); _process.WaitForExit(); } }

    /// <summary>shutdown + exit, then waits; kills it if it does not go.</summary>
    /// <returns>whether it exited by itself</returns>
    public async Task<bool> ShutdownAsync()
    {
        try
        {
            await RequestAsync("shutdown", null, TimeSpan.FromSeconds(15));
            await NotifyAsync("exit", null);
            return _process.WaitForExit(15_000);
        }
        catch (Exception e) when (e is IOException or TimeoutException) { return false; }
    }

    /// <summary>shutdown + exit, as the editor ends a session: the process must end by itself with code 0.</summary>
    public async Task ShutdownCleanlyAsync()
    {
        await InvokeAsync("shutdown", null);
        await NotifyAsync("exit", null);
        if (!_process.WaitForExit(15_000)) throw new TimeoutException(Explain("the sidecar did not exit within 15 s of shutdown and exit"));
        if (_process.ExitCode != 0) throw new IOException(Explain($"the sidecar exited with code {_process.ExitCode} after shutdown and exit"));
    }

    public override void Dispose()
    {
        try { if (!_process.HasExited) { _process.Kill(true); _process.WaitForExit(5000); } } catch (InvalidOperationException) { }
        _process.Dispose();
    }
}
