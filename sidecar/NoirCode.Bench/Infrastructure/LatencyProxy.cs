using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace NoirCode.Bench.Infrastructure;

/// <summary>
/// A TCP relay on loopback between the client and the endpoint that delays every chunk by half the round-trip
/// time in each direction (a network's latency, injected under the real gRPC stack rather than simulated above it)
/// and counts the bytes that cross it: the wire cost including HTTP/2 and gRPC framing.
/// </summary>
public sealed class LatencyProxy : IDisposable
{
    readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    readonly Uri _target;
    readonly CancellationTokenSource _stop = new();
    long _up, _down;

    public TimeSpan RoundTrip { get; set; }
    public Uri Address { get; }
    /// <summary>Bytes from the client to the endpoint, and back, so far.</summary>
    public (long Up, long Down) Bytes => (Interlocked.Read(ref _up), Interlocked.Read(ref _down));

    public LatencyProxy(Uri target, TimeSpan roundTrip)
    {
        _target = target; RoundTrip = roundTrip;
        _listener.Start();
        Address = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");
        _ = AcceptLoop();
    }

    public void ResetCounters() { Interlocked.Exchange(ref _up, 0); Interlocked.Exchange(ref _down, 0); }

    async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) { return; }
            _ = Relay(client);
        }
    }

    async Task Relay(TcpClient client)
    {
        using var _ = client;
        using var server = new TcpClient { NoDelay = true };
        client.NoDelay = true;
        try
        {
            await server.ConnectAsync(_target.Host, _target.Port, _stop.Token);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            var a = Pump(client.GetStream(), server.GetStream(), up: true, linked.Token);
            var b = Pump(server.GetStream(), client.GetStream(), up: false, linked.Token);
            await Task.WhenAny(a, b);
            linked.Cancel();
        }
        catch (Exception) { /* a side went away: the relay ends with it */ }
    }

    /// <summary>Reads chunks as they come and writes each one half a round trip later, in order.</summary>
    async Task Pump(NetworkStream from, NetworkStream to, bool up, CancellationToken cancel)
    {
        var queue = Channel.CreateUnbounded<(long Due, byte[] Data)>();
        var writer = Task.Run(async () =>
        {
            await foreach (var (due, data) in queue.Reader.ReadAllAsync(cancel))
            {
                long wait = due - Environment.TickCount64;
                if (wait > 0) await Task.Delay((int)wait, cancel);
                await to.WriteAsync(data, cancel);
            }
        }, cancel);
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                int n = await from.ReadAsync(buffer, cancel);
                if (n == 0) break;
                if (up) Interlocked.Add(ref _up, n); else Interlocked.Add(ref _down, n);
                queue.Writer.TryWrite((Environment.TickCount64 + (long)(RoundTrip.TotalMilliseconds / 2), buffer[..n]));
            }
        }
        catch (Exception) { }
        queue.Writer.TryComplete();
        try { await writer; } catch (Exception) { }
    }

    public void Dispose() { _stop.Cancel(); _listener.Stop(); }
}
