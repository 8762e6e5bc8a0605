using Grpc.Core;
using NoirCode.Core.Model;
using NoirCode.Protocol;
using NoirCode.Remote;

namespace NoirCode.Sidecar.Tests;

/// <summary>
/// The embedded default's endpoint (a real `noir cloud serve` process on loopback) takes only the key made for
/// this launch, which is on no command line and in no file: another user of the machine who finds the port can
/// neither run nor train on it.
/// </summary>
public class EmbeddedEndpointTests
{
    [Test]
    public async Task OnlyThisLaunchsKeyOpensASession()
    {
        string root = Directory.CreateTempSubdirectory("noir-embedded-tests-").FullName;
        string? cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        Environment.SetEnvironmentVariable("XDG_CACHE_HOME", Path.Combine(root, "cache"));
        try
        {
            string model = Path.Combine(root, "model");
            RandomModelFactory.Create(model, "tiny", seed: 5);
            using var embedded = EmbeddedEndpoint.Start(model, Path.Combine(AppContext.BaseDirectory, "noir.dll"));
            Assert.That(embedded.ApiKey, Has.Length.EqualTo(64));
            // Every user can list command lines; the key is not on it (it travels in the endpoint's environment).
            Assert.That(File.ReadAllText($"/proc/{embedded.Pid}/cmdline"), Does.Contain("--auth-env").And.Not.Contain(embedded.ApiKey));
            string fingerprint = ModelFingerprint.Of(embedded.ClientFolder);

            foreach (var key in new[] { null, "another-users-guess-0123456789" })
            {
                var e = Assert.ThrowsAsync<RpcException>(() => Open(embedded.Address, key, fingerprint))!;
                Assert.That(e.StatusCode, Is.EqualTo(StatusCode.Unauthenticated), key ?? "no key");
            }
            Assert.That(await Open(embedded.Address, embedded.ApiKey, fingerprint), Is.EqualTo(SessionReply.KindOneofCase.Opened));
        }
        finally
        {
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", cache);
            Directory.Delete(root, true);
        }
    }

    static async Task<SessionReply.KindOneofCase> Open(Uri address, string? key, string fingerprint)
    {
        using var connection = new EndpointConnection(address, new EndpointClientOptions { Endpoints = new[] { address }, ApiKey = key });
        using var call = connection.Client.Session(connection.Headers());
        await call.RequestStream.WriteAsync(new SessionRequest { Open = new OpenSession { ModelFingerprint = fingerprint, MaxLength = 16 } });
        Assert.That(await call.ResponseStream.MoveNext(), Is.True);
        var kind = call.ResponseStream.Current.KindCase;
        await call.RequestStream.WriteAsync(new SessionRequest { Close = new CloseSession() });
        await call.RequestStream.CompleteAsync();
        return kind;
    }
}
