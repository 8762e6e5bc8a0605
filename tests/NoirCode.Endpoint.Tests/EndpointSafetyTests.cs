using Grpc.Core;
using NoirCode.Protocol;
using NoirCode.Remote;

namespace NoirCode.Endpoint.Tests;

/// <summary>Bad requests get a clear status, limits hold, and the endpoint keeps serving the next session.</summary>
public class EndpointSafetyTests
{
    static int Hidden => Clients.Client.Config.HiddenSize;

    static async Task AssertStillServes(Uri address, string? apiKey = null)
    {
        using var remote = Clients.Remote(Clients.Options(new[] { address }, apiKey: apiKey));
        var result = Clients.Generate(remote, "def ok():", 4);
        Assert.That(result.TokenIds, Has.Count.EqualTo(4), "the endpoint still serves a well-formed session");
        await Task.CompletedTask;
    }

    /// <summary>The status a request sequence ends with (read from the response stream, which carries the
    /// server's status even when a write was cut off first).</summary>
    static async Task<RpcException> Refused(Uri address, params SessionRequest[] requests)
    {
        using var call = Clients.RawSession(address);
        try
        {
            foreach (var r in requests)
            {
                await call.RequestStream.WriteAsync(r);
                if (!await call.ResponseStream.MoveNext()) Assert.Fail("the stream ended without an error status");
            }
        }
        catch (RpcException written)
        {
            try { while (await call.ResponseStream.MoveNext()) { } }
            catch (RpcException status) { return status; }
            return written;
        }
        Assert.Fail("the requests were accepted");
        return null!;
    }

    [Test]
    public async Task MalformedRequestsGetClearStatusesAndTheServerCarriesOn()
    {
        await using var host = await EndpointFixture.StartAsync(o => o with { MaxMessageBytes = 1 << 20 });
        var cases = new (string Name, SessionRequest[] Requests, StatusCode Code, string Text)[]
        {
            ("wrong hidden size", new[] { Clients.Open(), Clients.Forward(0, 3, Hidden + 1) }, StatusCode.InvalidArgument, "hidden size"),
            ("NaN", new[] { Clients.Open(), Clients.Forward(0, 3, Hidden, float.NaN) }, StatusCode.InvalidArgument, "finite"),
            ("beyond max length", new[] { Clients.Open(maxLength: 4), Clients.Forward(0, 5, Hidden) }, StatusCode.InvalidArgument, "max_length"),
            ("skipped positions", new[] { Clients.Open(), Clients.Forward(7, 1, Hidden) }, StatusCode.InvalidArgument, "past the 0 positions"),
            ("byte count", new[] { Clients.Open(), BadBytes() }, StatusCode.InvalidArgument, "do not hold"),
            ("another model", new[] { Clients.Open(fingerprint: "sha256:00") }, StatusCode.FailedPrecondition, "serves model"),
            ("no open", new[] { Clients.Forward(0, 1, Hidden) }, StatusCode.InvalidArgument, "must be open"),
            ("max length over the model's", new[] { Clients.Open(maxLength: 1_000_000) }, StatusCode.InvalidArgument, "max_length"),
            ("oversized message", new[] { Clients.Open(), Clients.Forward(0, 4096, Hidden) }, StatusCode.ResourceExhausted, ""),
            ("truncate beyond", new[] { Clients.Open(), new SessionRequest { Truncate = new TruncateSession { Length = 3 } } }, StatusCode.InvalidArgument, "cannot truncate"),
        };
        foreach (var c in cases)
        {
            var e = await Refused(host.Address, c.Requests);
            Assert.That(e.StatusCode, Is.EqualTo(c.Code), c.Name);
            Assert.That(e.Status.Detail, Does.Contain(c.Text), c.Name);
            await AssertStillServes(host.Address);
        }
        await WaitFor(() => host.State.Sessions.Count == 0, "every refused session was freed");
    }

    static SessionRequest BadBytes()
    {
        var r = Clients.Forward(0, 2, Hidden);
        r.Forward.Hidden.Data = Google.Protobuf.ByteString.CopyFrom(r.Forward.Hidden.Data.Span[..10]);
        return r;
    }

    [Test]
    public async Task ApiKeysMapToTenantsAndAnythingElseIsUnauthenticated()
    {
        string auth = Path.Combine(EndpointFixture.Root, $"auth-{Guid.NewGuid():N}");
        File.WriteAllText(auth, "# key tenant\nkey-for-alice-0123456789 alice\nkey-for-bob-0123456789abc bob\n");
        File.SetUnixFileMode(auth, UnixFileMode.UserRead | UnixFileMode.UserWrite); // secrets are owner-only
        await using var host = await EndpointFixture.StartAsync(o => o with { AuthFile = auth });
        foreach (var key in new[] { null, "wrong-key-0123456789" })
        {
            using var remote = Clients.Remote(Clients.Options(new[] { host.Address }, apiKey: key, attempts: 1));
            var e = Assert.Throws<EndpointRequestException>(() => Clients.Generate(remote, "x", 2))!;
            Assert.That(e.Message, Does.Contain("Unauthenticated"));
        }
        await AssertStillServes(host.Address, "key-for-alice-0123456789");
    }

    [Test]
    public void NonLoopbackBindsNeedTlsAndAuth()
    {
        var e = Assert.Throws<ArgumentException>(() => EndpointHost.Validate(new EndpointOptions { ShardFolder = "x", Host = "0.0.0.0" }))!;
        Assert.That(e.Message, Does.Contain("requires --tls-cert, --tls-key and --auth"));
        Assert.Throws<ArgumentException>(() => EndpointHost.Validate(new EndpointOptions { ShardFolder = "x", Host = "10.1.2.3", TlsCertificate = "c", TlsKey = "k" }));
        Assert.DoesNotThrow(() => EndpointHost.Validate(new EndpointOptions { ShardFolder = "x", Host = "0.0.0.0", TlsCertificate = "c", TlsKey = "k", AuthFile = "a" }));
        Assert.DoesNotThrow(() => EndpointHost.Validate(new EndpointOptions { ShardFolder = "x", Host = "127.0.0.1" }));
    }

    [Test]
    public async Task AClientThatDropsMidStreamFreesItsSession()
    {
        await using var host = await EndpointFixture.StartAsync();
        var call = Clients.RawSession(host.Address);
        await Clients.ExchangeAsync(call, Clients.Open());
        await Clients.ExchangeAsync(call, Clients.Forward(0, 3, Hidden));
        Assert.That(host.State.Sessions.Count, Is.EqualTo(1));
        call.Dispose(); // the client goes away without closing
        await WaitFor(() => host.State.Sessions.Count == 0 && host.State.Sessions.ReservedBytes == 0, "the session and its KV reservation are freed");
    }

    [Test]
    public async Task IdleSessionsExpire()
    {
        await using var host = await EndpointFixture.StartAsync(o => o with { IdleTimeout = TimeSpan.FromSeconds(1) });
        using var call = Clients.RawSession(host.Address);
        await Clients.ExchangeAsync(call, Clients.Open());
        await WaitFor(() => host.State.Sessions.Count == 0, "the idle session was closed");
        var e = Assert.ThrowsAsync<RpcException>(async () => await call.ResponseStream.MoveNext())!;
        Assert.That(e.StatusCode, Is.EqualTo(StatusCode.DeadlineExceeded));
    }

    [Test]
    public async Task AFullKvBudgetRefusesNewSessionsClearly()
    {
        await using var host = await EndpointFixture.StartAsync(o => o with { KvBudgetBytes = 0 });
        long oneSession = host.State.Sessions.BytesFor(64);
        await using var limited = await EndpointFixture.StartAsync(o => o with { KvBudgetBytes = oneSession });
        using var first = Clients.RawSession(limited.Address);
        await Clients.ExchangeAsync(first, Clients.Open());
        var e = await Refused(limited.Address, Clients.Open());
        Assert.That(e.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted));
        Assert.That(e.Status.Detail, Does.Contain("KV memory is full"));
    }

    [Test]
    public async Task PerTenantSessionLimitAndRateLimitHold()
    {
        await using var host = await EndpointFixture.StartAsync(o => o with { MaxSessionsPerTenant = 1 });
        using var first = Clients.RawSession(host.Address);
        await Clients.ExchangeAsync(first, Clients.Open());
        var e = await Refused(host.Address, Clients.Open());
        Assert.That(e.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted));
        Assert.That(e.Status.Detail, Does.Contain("open sessions"));

        await using var slow = await EndpointFixture.StartAsync(o => o with { RequestsPerSecondPerTenant = 1 });
        var limited = await Refused(slow.Address, Clients.Open(), Clients.Forward(0, 1, Hidden), Clients.Forward(1, 1, Hidden), Clients.Forward(2, 1, Hidden));
        Assert.That(limited.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted));
        Assert.That(limited.Status.Detail, Does.Contain("rate limit"));
    }

    [Test]
    public async Task HealthAndMetricsAnswerOverHttp2()
    {
        await using var host = await EndpointFixture.StartAsync();
        using var http = new HttpClient { DefaultRequestVersion = System.Net.HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        Assert.That(await http.GetStringAsync(new Uri(host.Address, "/healthz")), Does.Contain("\"status\":\"ok\""));
        string metrics = await http.GetStringAsync(new Uri(host.Address, "/metrics"));
        Assert.That(metrics, Does.Contain("noir_sessions_active 0").And.Contain("noir_step_seconds_count").And.Contain("noir_queue_length"));
    }

    public static async Task WaitFor(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out waiting: {what}");
            await Task.Delay(50);
        }
    }
}
