using NoirCode.Bench.Infrastructure;

namespace NoirCode.Endpoint.Tests.Load;

/// <summary>A short load run (`scripts/bench load` runs 10 minutes): 64 sessions at once on a real endpoint process.</summary>
public class ConcurrentSessionsLoadTests
{
    [Test]
    public void SixtyFourConcurrentSessionsAllProgressAndNoneFails()
    {
        int port = EndpointFixture.FreePort();
        var server = EndpointFixture.StartServerProcess(port);
        try
        {
            var r = SessionLoad.Run(new Uri($"http://127.0.0.1:{port}"), Clients.Fingerprint, Clients.Client.Config.HiddenSize, 64, TimeSpan.FromSeconds(6), prefill: 8, maxLength: 48);
            Assert.That(r.Failures, Is.Zero, string.Join("; ", r.FailureMessages.Take(3)));
            Assert.That(r.Steps, Is.GreaterThanOrEqualTo(64 * 2), "every session made progress");
            Assert.That(server.HasExited, Is.False);
        }
        finally { if (!server.HasExited) server.Kill(); }
    }
}
