using System.Reflection;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Remote;

namespace NoirCode.Sidecar;

/// <summary>
/// The embedded default: with no endpoint configured, the sidecar splits the model once (into the user's
/// cache) and starts `noir cloud serve` on loopback for the middle blocks, so the split runs end to end on this
/// machine. It is stopped with the sidecar.
/// </summary>
public sealed class EmbeddedEndpoint : IDisposable
{
    readonly EndpointServerProcess _process;
    public Uri Address => _process.Address;
    public string ClientFolder { get; }

    EmbeddedEndpoint(EndpointServerProcess process, string clientFolder) { _process = process; ClientFolder = clientFolder; }

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
        var arguments = new List<string> { "--shard", cloudFolder, "--host", "127.0.0.1", "--port", "0", "--exit-with-parent", Environment.ProcessId.ToString() };
        if (stateFolder != null) arguments.AddRange(new[] { "--state-dir", stateFolder });
        // The endpoint's log (events and counts, never payloads) joins the sidecar's own, on stderr.
        var process = EndpointServerProcess.Start(noirDll, arguments, onLogLine: line => Console.Error.WriteLine("local endpoint: " + line));
        return new EmbeddedEndpoint(process, clientFolder);
    }

    public void Dispose() => _process.Dispose();
}
