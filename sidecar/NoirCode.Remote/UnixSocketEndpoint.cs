using System.Net.Sockets;

namespace NoirCode.Remote;

/// <summary>
/// An endpoint reached through a Unix domain socket, addressed as <c>unix:/path/to/socket</c>: the embedded local
/// endpoint's default, since a socket skips the loopback TCP stack and its file permissions keep other users out.
/// HTTP/2 runs over it unchanged; the HTTP address is a placeholder, the ConnectCallback picks the socket.
/// </summary>
public static class UnixSocketEndpoint
{
    public const string Scheme = "unix";
    /// <summary>What requests are addressed to; the connection itself goes to the socket.</summary>
    public static readonly Uri HttpAddress = new("http://localhost");

    public static bool Is(Uri endpoint) => endpoint.Scheme == Scheme;

    /// <summary>The <c>unix:</c> address of a socket file (an absolute path).</summary>
    public static Uri AddressOf(string socketPath) =>
        Path.IsPathFullyQualified(socketPath) ? new Uri(Scheme + ":" + socketPath)
            : throw new ArgumentException($"'{socketPath}' is not an absolute path: a unix socket endpoint is unix:/path/to/socket");

    public static string SocketPath(Uri endpoint) =>
        Is(endpoint) ? Uri.UnescapeDataString(endpoint.AbsolutePath) : throw new ArgumentException($"{endpoint} is not a unix: socket address");

    /// <summary>An HTTP handler whose every connection opens the endpoint's socket; otherwise as for TCP.</summary>
    public static SocketsHttpHandler Handler(Uri endpoint, TimeSpan connectTimeout)
    {
        var socket = new UnixDomainSocketEndPoint(SocketPath(endpoint));
        return new SocketsHttpHandler
        {
            ConnectTimeout = connectTimeout,
            ConnectCallback = async (_, cancel) =>
            {
                var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await s.ConnectAsync(socket, cancel);
                    return new NetworkStream(s, ownsSocket: true);
                }
                catch
                {
                    s.Dispose();
                    throw;
                }
            },
        };
    }
}
