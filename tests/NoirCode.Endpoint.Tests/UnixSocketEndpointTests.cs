using System.Net.Sockets;
using Grpc.Core;
using NoirCode.Remote;

namespace NoirCode.Endpoint.Tests;

/// <summary>
/// The endpoint on a Unix domain socket (--unix-socket), reached as unix:/path: real Kestrel, real sockets, real
/// sessions. The socket is owner-only in an owner-only folder and goes when the endpoint stops; paths it must not
/// take are refused with the reason.
/// </summary>
public class UnixSocketEndpointTests
{
    const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    string _folder = "";
    string Socket => Path.Combine(_folder, "endpoint.sock");

    [SetUp]
    public void MakeFolder() => _folder = Directory.CreateTempSubdirectory("noir-uds-").FullName; // 0700

    [TearDown]
    public void RemoveFolder() => Directory.Delete(_folder, recursive: true);

    [Test]
    public void TheEndpointProcessOnASocketServesTheSameGenerationAsInProcess()
    {
        using var endpoint = EndpointServerProcess.Start(Path.Combine(AppContext.BaseDirectory, "noir-endpoint.dll"),
            new[] { "--shard", EndpointFixture.Cloud, "--unix-socket", Socket });
        Assert.That(endpoint.Address, Is.EqualTo(new Uri("unix:" + Socket)), "its first line names the socket");
        Assert.That(File.GetUnixFileMode(Socket), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite), "0600");
        using var remote = Clients.Remote(Clients.Options(new[] { endpoint.Address }));
        var result = Clients.Generate(remote, "def add(a, b):", 6);
        Assert.That(result.Text, Is.EqualTo(Clients.GenerateLocally("def add(a, b):", 6).Text), "the same middle as in-process");
    }

    [Test]
    public async Task TheSocketIsOwnerOnlyAndGoesWhenTheEndpointStops()
    {
        var host = await EndpointFixture.StartAsync(o => o with { UnixSocketPath = Socket });
        Assert.That(host.Address.ToString(), Is.EqualTo("unix:" + Socket));
        Assert.That(File.GetUnixFileMode(Socket), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
        Assert.That(File.GetUnixFileMode(_folder), Is.EqualTo(OwnerOnlyFolder));
        await host.DisposeAsync();
        Assert.That(File.Exists(Socket), Is.False, "removed on shutdown");
    }

    [Test]
    public async Task KeysAndFailoverWorkAsOverTcp()
    {
        const string variable = "NOIR_TEST_UDS_AUTH", key = "uds-key-0123456789-0123456789";
        Environment.SetEnvironmentVariable(variable, $"{key} alice");
        try
        {
            await using var host = await EndpointFixture.StartAsync(o => o with { UnixSocketPath = Socket, AuthEnvironmentVariable = variable });
            var e = Assert.ThrowsAsync<RpcException>(() => Clients.ExchangeAsync(Clients.RawSession(host.Address), Clients.Open()))!;
            Assert.That(e.StatusCode, Is.EqualTo(StatusCode.Unauthenticated), "no key, no session");
            // The first address is a socket nobody listens on: the client fails over to the live one, key and all.
            var dead = new Uri("unix:" + Path.Combine(_folder, "nobody.sock"));
            using var remote = Clients.Remote(Clients.Options(new[] { dead, host.Address }, apiKey: key));
            Assert.That(Clients.Generate(remote, "def add(a, b):", 4).Text, Is.EqualTo(Clients.GenerateLocally("def add(a, b):", 4).Text));
        }
        finally { Environment.SetEnvironmentVariable(variable, null); }
    }

    [Test]
    public void AFolderOthersCanEnterIsRefused()
    {
        File.SetUnixFileMode(_folder, OwnerOnlyFolder | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var e = Assert.ThrowsAsync<ArgumentException>(() => EndpointFixture.StartAsync(o => o with { UnixSocketPath = Socket }))!;
        Assert.That(e.Message, Does.Contain("not owner-only").And.Contain("755"));
        Assert.That(File.Exists(Socket), Is.False, "nothing was bound");
    }

    [Test]
    public void PathsThatAreNotAFreshOrDeadSocketAreRefused()
    {
        File.WriteAllText(Socket, "someone's file");
        Assert.That(Assert.ThrowsAsync<ArgumentException>(() => EndpointFixture.StartAsync(o => o with { UnixSocketPath = Socket }))!.Message,
            Does.Contain("not a socket"));
        Assert.That(File.ReadAllText(Socket), Is.EqualTo("someone's file"), "left as it was");
        Assert.That(Assert.ThrowsAsync<ArgumentException>(() => EndpointFixture.StartAsync(o => o with { UnixSocketPath = "relative.sock" }))!.Message,
            Does.Contain("absolute path"));
        Assert.That(Assert.ThrowsAsync<ArgumentException>(() => EndpointFixture.StartAsync(o => o with { UnixSocketPath = Path.Combine(_folder, "missing", "e.sock") }))!.Message,
            Does.Contain("does not exist"));
        Assert.That(Assert.ThrowsAsync<ArgumentException>(() => EndpointFixture.StartAsync(o => o with { UnixSocketPath = Path.Combine(_folder, new string('x', 120)) }))!.Message,
            Does.Contain("at most 107"));
        Assert.That(Assert.Throws<ArgumentException>(() => EndpointHost.Validate(new EndpointOptions { ShardFolder = "x", UnixSocketPath = Socket, TlsCertificate = "c", TlsKey = "k" }))!.Message,
            Does.Contain("takes no --tls-cert"));
    }

    [Test]
    public async Task ALiveEndpointsSocketIsRefusedAndADeadOnesIsReplaced()
    {
        using (var dead = new System.Net.Sockets.Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
            dead.Bind(new UnixDomainSocketEndPoint(Socket)); // closed without unlinking: what a killed endpoint leaves
        await using var host = await EndpointFixture.StartAsync(o => o with { UnixSocketPath = Socket });
        var e = Assert.ThrowsAsync<ArgumentException>(() => EndpointFixture.StartAsync(o => o with { UnixSocketPath = Socket }))!;
        Assert.That(e.Message, Does.Contain("another endpoint is listening"));
        using var remote = Clients.Remote(Clients.Options(new[] { host.Address }));
        Assert.That(Clients.Generate(remote, "x = ", 2).Text, Is.EqualTo(Clients.GenerateLocally("x = ", 2).Text), "the first endpoint still serves");
    }

    [Test]
    public void ClientAddressesAcceptUnixSocketsAsLocal()
    {
        var list = EndpointClientOptions.ParseList($"unix:{Socket}, https://example.org:7450");
        Assert.That(list[0].Scheme, Is.EqualTo("unix"));
        Assert.That(UnixSocketEndpoint.SocketPath(list[0]), Is.EqualTo(Socket));
        Assert.That(EndpointClientOptions.IsLocal(list[0]), Is.True);
        Assert.That(EndpointClientOptions.IsLocal(list[1]), Is.False);
        Assert.DoesNotThrow(() => Clients.Options(list).Validate(), "no TLS needed on a socket");
        Assert.That(Assert.Throws<ArgumentException>(() => EndpointClientOptions.ParseList("unix:relative.sock"))!.Message, Does.Contain("absolute path"));
        Assert.That(Assert.Throws<ArgumentException>(() => EndpointClientOptions.ParseList("ftp://x"))!.Message, Does.Contain("unix:/path"));
        using var connection = new EndpointConnection(list[0], Clients.Options(list, apiKey: "k"));
        Assert.That(connection.Headers().GetValue("authorization"), Is.EqualTo("Bearer k"), "the key goes over a socket, as over loopback");
    }
}
