using System.Diagnostics;
using System.Reflection;
using NoirCode.Core.Model;
using NoirCode.Core.Split;

namespace NoirCode.Sidecar;

/// <summary>
/// The embedded default: with no endpoint configured, the sidecar splits the model once (into the user's
/// cache) and starts `noir cloud serve` on loopback for the middle blocks, so the split runs end to end on this
/// machine. It is stopped with the sidecar.
/// </summary>
public sealed class EmbeddedEndpoint : IDisposable
{
    readonly Process _process;
    public Uri Address { get; }
    public string ClientFolder { get; }

    EmbeddedEndpoint(Process process, Uri address, string clientFolder) { _process = process; Address = address; ClientFolder = clientFolder; }

    public static string CacheFolder() =>
        Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } x ? x
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "noircode", "shards");

    /// <param name="stateFolder">the endpoint's tenant state (e.g. the demo bundle's LoRA); none = memory only</param>
    public static EmbeddedEndpoint Start(string modelFolder, string? noirDll = null, string? stateFolder = null)
    {
        string clientFolder = modelFolder, cloudFolder;
        if (ShardManifest.TryLoad(modelFolder) is { Role: ShardManifest.ClientRole })
            throw new ArgumentException($"{modelFolder} is a client shard; the embedded endpoint needs the whole model");
        string fingerprint = ModelFingerprint.Of(modelFolder);
        string cache = Path.Combine(CacheFolder(), fingerprint.Replace("sha256:", "")[..16]);
        clientFolder = Path.Combine(cache, "client");
        cloudFolder = Path.Combine(cache, "cloud");
        if (!File.Exists(Path.Combine(cloudFolder, ShardManifest.FileName)))
        {
            string tmp = cache + ".tmp-" + Environment.ProcessId;
            if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
            ModelSplitter.Split(modelFolder, Path.Combine(tmp, "client"), Path.Combine(tmp, "cloud"), SplitSpec.Default);
            if (Directory.Exists(cache)) Directory.Delete(cache, true);
            Directory.Move(tmp, cache);
        }
        noirDll ??= Assembly.GetEntryAssembly()!.Location;
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { noirDll, "cloud", "serve", "--shard", cloudFolder, "--host", "127.0.0.1", "--port", "0", "--exit-with-parent", Environment.ProcessId.ToString() }) psi.ArgumentList.Add(a);
        if (stateFolder != null) { psi.ArgumentList.Add("--state-dir"); psi.ArgumentList.Add(stateFolder); }
        var process = Process.Start(psi) ?? throw new IOException("could not start the local endpoint");
        process.ErrorDataReceived += (_, e) => { if (e.Data != null) Console.Error.WriteLine("local endpoint: " + e.Data); };
        process.BeginErrorReadLine();
        var line = process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60)).GetAwaiter().GetResult();
        if (line == null || !line.StartsWith("listening on ", StringComparison.Ordinal))
        {
            process.Kill(true);
            throw new IOException("the local endpoint did not start");
        }
        return new EmbeddedEndpoint(process, new Uri(line["listening on ".Length..].Trim()), clientFolder);
    }

    public void Dispose()
    {
        try { if (!_process.HasExited) { _process.Kill(true); _process.WaitForExit(5000); } } catch (InvalidOperationException) { }
        _process.Dispose();
    }
}
