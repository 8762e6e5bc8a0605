using System.Diagnostics;
using NoirCode.Remote;

namespace NoirCode.Endpoint.Tests.Faults;

/// <summary>
/// kill -9 of the endpoint mid-generation with nothing to fail over to: the client stops retrying and says so
/// (a restarted or second endpoint is covered by EndpointRecoveryTests: the client replays and finishes).
/// </summary>
public class EndpointKillTests
{
    [Test]
    public void AKilledEndpointIsReportedClearlyWithTheSidecarsRetryBudget()
    {
        int port = EndpointFixture.FreePort();
        var server = EndpointFixture.StartServerProcess(port);
        try
        {
            // The sidecar's interactive budget (ModelRuntime: 4 attempts, backoff 0.1 → 0.4 s).
            var options = Clients.Options(new[] { new Uri($"http://127.0.0.1:{port}") }, attempts: 4) with
            {
                InitialBackoff = TimeSpan.FromMilliseconds(100),
                MaxBackoff = TimeSpan.FromMilliseconds(400),
            };
            using var remote = Clients.Remote(options);
            int tokens = 0;
            Stopwatch? sinceKill = null;
            var e = Assert.Throws<EndpointUnavailableException>(() => Clients.Generate(remote, "def fibonacci(n):\n", 32, onToken: _ =>
            {
                if (++tokens != 5) return;
                server.KillHard(); // SIGKILL, mid-generation
                sinceKill = Stopwatch.StartNew();
            }))!;
            Assert.That(tokens, Is.EqualTo(5), "the generation stopped at the kill");
            Assert.That(e.Message, Does.Contain("no endpoint answered after 4 attempts").And.Contain($"127.0.0.1:{port}"));
            // A bound against hanging on the step timeout (60 s); the time itself is measured by scripts/bench faults.
            Assert.That(sinceKill!.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
        }
        finally { server.Dispose(); }
    }
}
