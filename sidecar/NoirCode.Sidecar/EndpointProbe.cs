using System.Net;
using NoirCode.Remote;

namespace NoirCode.Sidecar;

/// <summary>
/// Tells whether an endpoint answers again, without opening a session or sending anything of the user's:
/// a GET of its /healthz over HTTP/2 (cleartext with prior knowledge on loopback or a unix socket, as gRPC does).
/// </summary>
public static class EndpointProbe
{
    static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(3) };

    public static async Task<bool> IsUpAsync(Uri endpoint, CancellationToken cancel)
    {
        bool unixSocket = UnixSocketEndpoint.Is(endpoint);
        // A socket's probe goes through a handler of its own (probes are seconds apart, so none is kept).
        using var socketClient = unixSocket ? new HttpClient(UnixSocketEndpoint.Handler(endpoint, Http.Timeout)) { Timeout = Http.Timeout } : null;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(unixSocket ? UnixSocketEndpoint.HttpAddress : endpoint, "/healthz"))
            {
                Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            };
            using var response = await (socketClient ?? Http).SendAsync(request, cancel);
            return response.IsSuccessStatusCode;
        }
        // Unreachable, timed out, or the probe was cancelled: in every case the endpoint is not known to be up.
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException) { return false; }
    }

    /// <summary>Probes with growing pauses (1 s doubling to 30 s) until one endpoint answers or the token is cancelled.</summary>
    public static async Task<Uri?> WaitUntilUpAsync(IReadOnlyList<Uri> endpoints, CancellationToken cancel)
    {
        var pause = TimeSpan.FromSeconds(1);
        while (!cancel.IsCancellationRequested)
        {
            foreach (var e in endpoints)
                if (await IsUpAsync(e, cancel)) return e;
            try { await Task.Delay(pause, cancel); } catch (OperationCanceledException) { return null; }
            pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
        }
        return null;
    }
}
