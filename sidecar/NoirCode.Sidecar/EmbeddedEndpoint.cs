using System.Reflection;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Remote;

namespace NoirCode.Sidecar;

/// <summary>
/// The embedded default: with no endpoint configured, the sidecar splits the model once (into the user's
/// cache) and starts `noir cloud serve` for the middle blocks, so the split runs end to end on this machine. It
/// listens on a unix socket in an owner-only folder (<see cref="EmbeddedEndpointSocket"/>): a round trip skips the
/// TCP stack, and other users cannot even connect; where no socket can be made, on loopback TCP. It is stopped with
/// the sidecar. It takes one random API key, made for this launch and known only to this sidecar (handed over in the
/// endpoint's environment): on a machine with other users, they can reach a loopback port but cannot use the
/// endpoint (nor train the "local" LoRA that is saved into this user's cache).
/// </summary>
public sealed class EmbeddedEndpoint : IDisposable
{
    readonly EndpointServerProcess _process;
    readonly EmbeddedEndpointSocket? _socket;
    /// <summary><c>unix:/…/endpoint.sock</c>, or <c>http://127.0.0.1:PORT</c> where no socket could be made.</summary>
    public Uri Address => _process.Address;
    public string ClientFolder { get; }
    /// <summary>The key this launch's endpoint accepts (for the sidecar's client only; never written anywhere lasting).</summary>
    public string ApiKey { get; }

    EmbeddedEndpoint(EndpointServerProcess process, EmbeddedEndpointSocket? socket, string clientFolder, string apiKey)
    {
        _process = process; _socket = socket; ClientFolder = clientFolder; ApiKey = apiKey;
    }

    public static string CacheFolder() =>
        Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } x ? x
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "noircode", "shards");

    /// <summary>Where the split of <paramref name="modelFolder"/> is kept: named by the weights' fingerprint.</summary>
    public static string SplitFolder(string modelFolder) =>
        Path.Combine(CacheFolder(), ModelFingerprint.Of(modelFolder).Replace("sha256:", "")[..16]);

    /// <param name="stateFolder">the endpoint's tenant state (e.g. the demo bundle's LoRA); none = memory only</param>
    public static EmbeddedEndpoint Start(string modelFolder, string? noirDll = null, string? stateFolder = null)
    {
        string clientFolder = modelFolder, cloudFolder;
        if (ShardManifest.TryLoad(modelFolder) is { Role: ShardManifest.ClientRole })
            throw new ArgumentException($"{modelFolder} is a client shard; the embedded endpoint needs the whole model");
        string cache = SplitFolder(modelFolder);
        clientFolder = Path.Combine(cache, "client");
        cloudFolder = Path.Combine(cache, "cloud");
        Func<bool> split = () => File.Exists(Path.Combine(cloudFolder, ShardManifest.FileName));
        FolderInstall.Install(cache, split, tmp => ModelSplitter.Split(modelFolder, Path.Combine(tmp, "client"), Path.Combine(tmp, "cloud"), SplitSpec.Default));
        noirDll ??= Assembly.GetEntryAssembly()!.Location;
        // The per-launch key reaches the endpoint in its environment (readable only by this user): never on its
        // command line (which every user can list) nor in a file that a killed sidecar could leave behind.
        string apiKey = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)).ToLowerInvariant();
        var arguments = new List<string> { "--shard", cloudFolder, "--auth-env", AuthVariable, "--exit-with-parent", Environment.ProcessId.ToString() };
        if (stateFolder != null) arguments.AddRange(new[] { "--state-dir", stateFolder });
        var environment = new Dictionary<string, string> { [AuthVariable] = $"{apiKey} local" };
        // The endpoint's log (events and counts, never payloads) joins the sidecar's own, on stderr.
        EndpointServerProcess Serve(IEnumerable<string> listen) =>
            EndpointServerProcess.Start(noirDll, arguments.Concat(listen), environment, onLogLine: line => Console.Error.WriteLine("local endpoint: " + line));

        EmbeddedEndpointSocket? socket = null;
        try
        {
            socket = EmbeddedEndpointSocket.Create();
            return new EmbeddedEndpoint(Serve(new[] { "--unix-socket", socket.SocketPath }), socket, clientFolder, apiKey);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            socket?.Dispose();
            Console.Error.WriteLine($"local endpoint: no unix socket ({e.Message}); using loopback TCP instead");
        }
        return new EmbeddedEndpoint(Serve(new[] { "--host", "127.0.0.1", "--port", "0" }), null, clientFolder, apiKey);
    }

    const string AuthVariable = "NOIR_EMBEDDED_ENDPOINT_AUTH";

    /// <summary>The endpoint process (tests check what others can see of it).</summary>
    public int Pid => _process.Pid;

    public void Dispose()
    {
        _process.Dispose(); // SIGKILL: the endpoint cannot remove its socket, so its folder goes here
        _socket?.Dispose();
    }
}
