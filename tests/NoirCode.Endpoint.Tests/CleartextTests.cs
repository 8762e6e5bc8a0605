using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;
using NoirCode.Protocol;
using NoirCode.Remote;

namespace NoirCode.Endpoint.Tests;

/// <summary>
/// The client never talks cleartext (http://) to another machine unless told to, and never sends the API key over
/// it. The bytes are read off a real socket: a listener on this machine's own network address (not loopback).
/// </summary>
public class CleartextTests
{
    const string Key = "key-for-alice-0123456789-cleartext";

    [Test]
    public void CleartextToAnotherMachineIsRefusedBeforeAnythingIsSent()
    {
        var address = new Uri("http://203.0.113.5:7450"); // TEST-NET-3: nothing is there, and nothing is tried
        var options = Clients.Options(new[] { address }, apiKey: Key);
        var e = Assert.Throws<ArgumentException>(() => options.Validate())!;
        Assert.That(e.Message, Does.Contain("cleartext (http://) to another machine"));
        Assert.Throws<ArgumentException>(() => new EndpointConnection(address, options).Dispose());
        Assert.DoesNotThrow(() => (options with { Endpoints = new[] { new Uri("https://203.0.113.5:7450"), new Uri("http://127.0.0.1:7450"), new Uri("http://localhost:1") } }).Validate(),
            "TLS anywhere, cleartext on loopback");
    }

    [Test]
    public async Task AllowedCleartextToAnotherMachineNeverCarriesTheKey()
    {
        var lan = NetworkInterface.GetAllNetworkInterfaces().Where(n => n.OperationalStatus == OperationalStatus.Up)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses).Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
        if (lan == null) Assert.Ignore("this machine has no non-loopback IPv4 address");

        // The control: over loopback cleartext the key is sent, and this capture can see it.
        string loopback = await CaptureFirstBytes(IPAddress.Loopback, allowCleartext: false);
        Assert.That(loopback, Does.Contain(Key), "the capture sees a key that is sent");

        string remote = await CaptureFirstBytes(lan!, allowCleartext: true);
        Assert.That(remote, Does.StartWith("PRI * HTTP/2.0"), "the client did connect");
        Assert.That(remote, Does.Contain("/noir.split.v1.SplitInference/Session").Or.Contain("SplitInference"), "its request headers were captured");
        Assert.That(remote, Does.Not.Contain(Key).And.Not.Contain("Bearer"));
    }

    /// <summary>What a client with the key sends to a listener at <paramref name="ip"/> when it opens a session.</summary>
    static async Task<string> CaptureFirstBytes(IPAddress ip, bool allowCleartext)
    {
        var listener = new TcpListener(ip, 0);
        listener.Start();
        try
        {
            var address = new Uri($"http://{ip}:{((IPEndPoint)listener.LocalEndpoint).Port}");
            var options = Clients.Options(new[] { address }, apiKey: Key) with { AllowCleartext = allowCleartext, ConnectTimeout = TimeSpan.FromSeconds(5) };
            using var connection = new EndpointConnection(address, options);
            using var call = connection.Client.Session(connection.Headers(), deadline: DateTime.UtcNow.AddSeconds(3));
            _ = call.RequestStream.WriteAsync(new SessionRequest { Close = new CloseSession() }).ContinueWith(_ => { });
            using var socket = await listener.AcceptSocketAsync().WaitAsync(TimeSpan.FromSeconds(10));
            // Answer with an empty SETTINGS frame so the client sends its request's HEADERS.
            await socket.SendAsync(new byte[] { 0, 0, 0, 4, 0, 0, 0, 0, 0 });
            var received = new MemoryStream();
            var buffer = new byte[65536];
            var until = DateTime.UtcNow.AddSeconds(2);
            while (DateTime.UtcNow < until)
            {
                using var cancel = new CancellationTokenSource(until - DateTime.UtcNow);
                int n;
                try { n = await socket.ReceiveAsync(buffer, SocketFlags.None, cancel.Token); } catch (OperationCanceledException) { break; }
                if (n == 0) break;
                received.Write(buffer, 0, n);
            }
            return Encoding.Latin1.GetString(received.ToArray());
        }
        finally { listener.Stop(); }
    }
}
