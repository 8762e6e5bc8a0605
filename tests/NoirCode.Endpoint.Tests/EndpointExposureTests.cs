using System.Net;
using System.Net.Http.Headers;

namespace NoirCode.Endpoint.Tests;

/// <summary>
/// What a real endpoint on loopback tells whoever asks: /healthz a bare status; /metrics (every tenant's traffic
/// and cadence) only with the metrics token, or on a loopback endpoint without API keys. Its secret files are
/// owner-only and unambiguous.
/// </summary>
public class EndpointExposureTests
{
    static HttpClient Http() => new() { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };

    /// <summary>A GET over HTTP/2 (the endpoint speaks nothing else on loopback), with a Bearer token.</summary>
    static HttpRequestMessage Get(Uri address, string token) => new(HttpMethod.Get, new Uri(address, "/metrics"))
    {
        Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Headers = { Authorization = new AuthenticationHeaderValue("Bearer", token) },
    };

    static string SecretFile(string text, UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite)
    {
        string path = Path.Combine(EndpointFixture.Root, $"secret-{Guid.NewGuid():N}");
        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, mode);
        return path;
    }

    const string Auth = "key-for-alice-0123456789 alice\nkey-for-bob-0123456789abc bob\n";
    const string MetricsToken = "metrics-token-0123456789abcdef";

    [Test]
    public async Task HealthzIsABareStatusWhileSessionsAreOpen()
    {
        await using var host = await EndpointFixture.StartAsync();
        using var session = Clients.RawSession(host.Address);
        await Clients.ExchangeAsync(session, Clients.Open());
        using var http = Http();
        Assert.That(await http.GetStringAsync(new Uri(host.Address, "/healthz")), Is.EqualTo("{\"status\":\"ok\"}"));
    }

    [Test]
    public async Task WithApiKeysAndNoMetricsTokenMetricsAreNotServed()
    {
        await using var host = await EndpointFixture.StartAsync(o => o with { AuthFile = SecretFile(Auth) });
        using var http = Http();
        var response = await http.GetAsync(new Uri(host.Address, "/metrics"));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        using var asTenant = Get(host.Address, "key-for-alice-0123456789");
        Assert.That((await http.SendAsync(asTenant)).StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "a tenant's API key does not open the metrics");
    }

    [Test]
    public async Task WithAMetricsTokenOnlyItsBearerReadsTheMetrics()
    {
        await using var host = await EndpointFixture.StartAsync(o => o with { AuthFile = SecretFile(Auth), MetricsTokenFile = SecretFile(MetricsToken + "\n") });
        using var http = Http();
        Assert.That((await http.GetAsync(new Uri(host.Address, "/metrics"))).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        foreach (var token in new[] { "key-for-alice-0123456789", MetricsToken + "x" })
        {
            using var wrong = Get(host.Address, token);
            Assert.That((await http.SendAsync(wrong)).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), token);
        }
        using var right = Get(host.Address, MetricsToken);
        var ok = await http.SendAsync(right);
        Assert.That(ok.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await ok.Content.ReadAsStringAsync(), Does.Contain("noir_sessions_active"));
    }

    [Test]
    public void SecretFilesOthersCanReadAreRefused()
    {
        var open = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        var e = Assert.Throws<UnauthorizedAccessException>(() => ApiKeys.Load(SecretFile(Auth, open)))!;
        Assert.That(e.Message, Does.Contain("chmod 600"));
        Assert.Throws<UnauthorizedAccessException>(() => MetricsAccess.For(new EndpointOptions { ShardFolder = "x", MetricsTokenFile = SecretFile(MetricsToken, open) }));
        Assert.Throws<FormatException>(() => MetricsAccess.For(new EndpointOptions { ShardFolder = "x", MetricsTokenFile = SecretFile("short") }));
    }

    [Test]
    public void AKeyListedTwiceIsRefused()
    {
        var e = Assert.Throws<FormatException>(() => ApiKeys.Load(SecretFile("key-for-alice-0123456789 alice\nkey-for-alice-0123456789 mallory\n")))!;
        Assert.That(e.Message, Does.Contain(":2:").And.Contain("already listed"));
        Assert.That(ApiKeys.Load(SecretFile(Auth)).TenantFor("key-for-bob-0123456789abc"), Is.EqualTo("bob"));
    }

    [Test]
    public async Task AKeyFileOfSaltedHashesAuthenticatesWithoutHoldingTheKeys()
    {
        string alice = "key-for-alice-0123456789", bob = "key-for-bob-0123456789abc";
        string file = SecretFile($"{ApiKeys.HashedForm(alice)} alice\n{ApiKeys.HashedForm(bob)} bob\n");
        Assert.That(File.ReadAllText(file), Does.Not.Contain(alice).And.Not.Contain(bob));
        Assert.That(ApiKeys.HashedForm(alice), Is.Not.EqualTo(ApiKeys.HashedForm(alice)), "a fresh salt each time");
        await using var host = await EndpointFixture.StartAsync(o => o with { AuthFile = file });
        using (var ok = Clients.RawSession(host.Address, alice))
            Assert.That((await Clients.ExchangeAsync(ok, Clients.Open())).KindCase, Is.EqualTo(NoirCode.Protocol.SessionReply.KindOneofCase.Opened));
        using var wrong = Clients.RawSession(host.Address, "key-for-mallory-0123456789");
        var e = Assert.ThrowsAsync<Grpc.Core.RpcException>(async () => await Clients.ExchangeAsync(wrong, Clients.Open()))!;
        Assert.That(e.StatusCode, Is.EqualTo(Grpc.Core.StatusCode.Unauthenticated));

        var duplicate = Assert.Throws<FormatException>(() => ApiKeys.Load(SecretFile($"{alice} alice\n{ApiKeys.HashedForm(alice)} mallory\n")))!;
        Assert.That(duplicate.Message, Does.Contain(":2:").And.Contain("already listed"));
        Assert.Throws<FormatException>(() => ApiKeys.Load(SecretFile("sha256:zz:00 alice\n")));
    }
}
