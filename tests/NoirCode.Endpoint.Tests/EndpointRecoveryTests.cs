using System.Diagnostics;
using NoirCode.Remote;

namespace NoirCode.Endpoint.Tests;

/// <summary>A dead endpoint mid-generation: the client replays its history and the output is unchanged.</summary>
public class EndpointRecoveryTests
{
    const string Prompt = "def fibonacci(n):\n    result = [0, 1]\n";

    [Test]
    public void KilledAndRestartedServerMidGenerationGivesTheUninterruptedOutput()
    {
        var expected = Clients.GenerateLocally(Prompt, 16);
        int port = EndpointFixture.FreePort();
        var address = new Uri($"http://127.0.0.1:{port}");
        var server = EndpointFixture.StartServerProcess(port);
        EndpointServerProcess? restarted = null;
        try
        {
            using var remote = Clients.Remote(Clients.Options(new[] { address }, attempts: 12));
            int tokens = 0;
            var result = Clients.Generate(remote, Prompt, 16, onToken: _ =>
            {
                if (++tokens != 5) return;
                server.KillHard(); // SIGKILL, mid-generation
                restarted = EndpointFixture.StartServerProcess(port);
            });
            Assert.That(result.TokenIds, Is.EqualTo(expected.TokenIds));
            Assert.That(remote.Reconnects, Is.EqualTo(1), "one reconnect, with the history replayed");
        }
        finally
        {
            foreach (var p in new[] { server, restarted }) p?.Dispose();
        }
    }

    [Test]
    public async Task FailsOverToTheNextEndpointAndReportsClearlyWhenAllAreGone()
    {
        var expected = Clients.GenerateLocally(Prompt, 12);
        int port = EndpointFixture.FreePort();
        var server = EndpointFixture.StartServerProcess(port);
        await using var backup = await EndpointFixture.StartAsync();
        try
        {
            using var remote = Clients.Remote(Clients.Options(new[] { new Uri($"http://127.0.0.1:{port}"), backup.Address }));
            int tokens = 0;
            var result = Clients.Generate(remote, Prompt, 12, onToken: _ => { if (++tokens == 4) server.KillHard(); });
            Assert.That(result.TokenIds, Is.EqualTo(expected.TokenIds));
            Assert.That(remote.LastEndpoint, Is.EqualTo(backup.Address));
        }
        finally { server.Dispose(); }

        var dead = new Uri($"http://127.0.0.1:{EndpointFixture.FreePort()}");
        using var nowhere = Clients.Remote(Clients.Options(new[] { dead }, attempts: 3) with { InitialBackoff = TimeSpan.FromMilliseconds(50) });
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<EndpointUnavailableException>(() => Clients.Generate(nowhere, Prompt, 4))!;
        Assert.That(e.Message, Does.Contain("no endpoint answered after 3 attempts"));
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "a dead endpoint is reported promptly");
    }
}
