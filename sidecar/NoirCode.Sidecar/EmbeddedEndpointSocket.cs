namespace NoirCode.Sidecar;

/// <summary>
/// Where the embedded endpoint's unix socket goes: a fresh owner-only (0700) folder under the user's runtime dir
/// (XDG_RUNTIME_DIR, itself per-user and cleared at logout), else under the temp dir. One folder per launch, so a
/// killed sidecar's leftovers never collide with the next; it is removed with the endpoint, and what a killed
/// sidecar left behind is swept at the next launch.
/// </summary>
public sealed class EmbeddedEndpointSocket : IDisposable
{
    const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    /// <summary>sun_path's limit less its NUL: a longer path cannot be a socket.</summary>
    const int MaxPathBytes = 107;
    const string Prefix = "noircode-endpoint-";
    /// <summary>A folder younger than this may belong to a sidecar whose endpoint is still starting.</summary>
    static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(2);

    public string Folder { get; }
    public string SocketPath => Path.Combine(Folder, "endpoint.sock");

    EmbeddedEndpointSocket(string folder) { Folder = folder; }

    /// <summary>A new folder for the socket; throws (IOException, UnauthorizedAccessException) when none can be made.</summary>
    public static EmbeddedEndpointSocket Create()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) throw new IOException("unix sockets need Linux or macOS");
        string folder;
        if (Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR") is { Length: > 0 } runtime && Directory.Exists(runtime))
        {
            SweepStale(runtime);
            folder = Path.Combine(runtime, Prefix + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6)).ToLowerInvariant());
            Directory.CreateDirectory(folder, OwnerOnly);
            File.SetUnixFileMode(folder, OwnerOnly); // in case the folder was there already, or the umask narrowed it
        }
        else
        {
            SweepStale(Path.GetTempPath());
            folder = Directory.CreateTempSubdirectory(Prefix).FullName; // made 0700
        }
        var socket = new EmbeddedEndpointSocket(folder);
        if (System.Text.Encoding.UTF8.GetByteCount(socket.SocketPath) > MaxPathBytes)
        {
            socket.Dispose();
            throw new IOException($"the socket path {socket.SocketPath} is longer than a unix socket allows ({MaxPathBytes} bytes)");
        }
        return socket;
    }

    /// <summary>Removes earlier launches' folders that no endpoint listens in any more (other users' are not ours to
    /// enter, and are skipped).</summary>
    static void SweepStale(string parent)
    {
        foreach (var folder in new DirectoryInfo(parent).EnumerateDirectories(Prefix + "*"))
        {
            try
            {
                if (DateTime.UtcNow - folder.LastWriteTimeUtc < StaleAfter) continue;
                string socket = Path.Combine(folder.FullName, "endpoint.sock");
                if (File.Exists(socket) && IsListening(socket)) continue;
                folder.Delete(recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }

    static bool IsListening(string socket)
    {
        using var probe = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        try { probe.Connect(new System.Net.Sockets.UnixDomainSocketEndPoint(socket)); return true; }
        catch (System.Net.Sockets.SocketException) { return false; }
    }

    public void Dispose()
    {
        try { Directory.Delete(Folder, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // gone already, or not ours to remove
    }
}
