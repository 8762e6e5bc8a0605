namespace NoirCode.Sidecar;

/// <summary>
/// Where the embedded endpoint's unix socket goes: a fresh owner-only (0700) folder under the user's runtime dir
/// (XDG_RUNTIME_DIR, itself per-user and cleared at logout), else under the temp dir. One folder per launch, so a
/// killed sidecar's leftovers never collide with the next; it is removed with the endpoint.
/// </summary>
public sealed class EmbeddedEndpointSocket : IDisposable
{
    const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    /// <summary>sun_path's limit less its NUL: a longer path cannot be a socket.</summary>
    const int MaxPathBytes = 107;

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
            folder = Path.Combine(runtime, "noircode-" + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6)).ToLowerInvariant());
            Directory.CreateDirectory(folder, OwnerOnly);
            File.SetUnixFileMode(folder, OwnerOnly); // in case the folder was there already, or the umask narrowed it
        }
        else folder = Directory.CreateTempSubdirectory("noircode-endpoint-").FullName; // made 0700
        var socket = new EmbeddedEndpointSocket(folder);
        if (System.Text.Encoding.UTF8.GetByteCount(socket.SocketPath) > MaxPathBytes)
        {
            socket.Dispose();
            throw new IOException($"the socket path {socket.SocketPath} is longer than a unix socket allows ({MaxPathBytes} bytes)");
        }
        return socket;
    }

    public void Dispose()
    {
        try { Directory.Delete(Folder, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // gone already, or not ours to remove
    }
}
