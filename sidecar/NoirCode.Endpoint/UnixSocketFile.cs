using System.Net.Sockets;

namespace NoirCode.Endpoint;

/// <summary>
/// The socket file of an endpoint that listens on a Unix domain socket (--unix-socket): it lies in a folder only its
/// owner can enter (0700), so no other user can reach it even in the moment between Kestrel's bind and the chmod to
/// 0600, and it is removed when the endpoint stops. A file left by an endpoint that was killed is replaced; a live
/// endpoint's socket or any other file is refused.
/// </summary>
public static class UnixSocketFile
{
    /// <summary>sun_path holds 108 bytes, the terminating NUL included.</summary>
    const int MaxPathBytes = 107;
    const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    public const UnixFileMode OwnerOnlySocket = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Refuses, with the reason, a path the endpoint must not listen on; removes a dead endpoint's socket.</summary>
    public static void Prepare(string path)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
            throw new ArgumentException("--unix-socket needs Linux or macOS");
        if (!Path.IsPathFullyQualified(path)) throw new ArgumentException($"--unix-socket needs an absolute path, not '{path}'");
        if (System.Text.Encoding.UTF8.GetByteCount(path) > MaxPathBytes)
            throw new ArgumentException($"--unix-socket path is {System.Text.Encoding.UTF8.GetByteCount(path)} bytes; a unix socket path holds at most {MaxPathBytes}");
        string folder = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(folder)) throw new ArgumentException($"--unix-socket: the folder {folder} does not exist (create it with mode 0700)");
        var mode = File.GetUnixFileMode(folder);
        if ((mode & ~OwnerOnlyFolder) != 0)
            throw new ArgumentException($"--unix-socket: the folder {folder} is not owner-only (mode {Convert.ToString((int)mode, 8)}; needs 0700), so other users could reach the socket");
        if (!File.Exists(path) && !Directory.Exists(path) && new FileInfo(path).LinkTarget == null) return;
        if (!IsSocket(path))
            throw new ArgumentException($"--unix-socket: {path} already exists and is not a socket; refusing to replace it");
        if (IsListening(path)) throw new ArgumentException($"--unix-socket: another endpoint is listening on {path}");
        File.Delete(path); // a socket nobody listens on: left by an endpoint that was killed
    }

    /// <summary>After the bind: owner-only, so only this user's processes can connect.</summary>
    public static void Secure(string path) => File.SetUnixFileMode(path, OwnerOnlySocket);

    public static void Remove(string path)
    {
        try { if (IsSocket(path)) File.Delete(path); }
        catch (IOException) { } // already gone, or the folder with it
    }

    /// <summary>lstat's file type. .NET exposes no file type beyond file/folder/link, so this asks the runtime's own
    /// native shim (System.Native, which FileInfo itself uses) and reads its portable FileStatus: Flags, then Mode.</summary>
    static bool IsSocket(string path)
    {
        const int TypeMask = 0xF000, SocketType = 0xC000; // the shim's S_IFMT and S_IFSOCK, the same on every platform
        var status = new byte[256]; // FileStatus is about 120 bytes; room to spare
        return LStat(path, status) == 0 && (BitConverter.ToInt32(status, 4) & TypeMask) == SocketType;
    }

    [System.Runtime.InteropServices.DllImport("libSystem.Native", EntryPoint = "SystemNative_LStat", CharSet = System.Runtime.InteropServices.CharSet.Ansi)]
    static extern int LStat(string path, byte[] status);

    static bool IsListening(string path)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try { probe.Connect(new UnixDomainSocketEndPoint(path)); return true; }
        catch (SocketException) { return false; }
    }
}
