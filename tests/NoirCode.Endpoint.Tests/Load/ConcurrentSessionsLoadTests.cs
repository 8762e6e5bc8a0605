using NoirCode.Testing.Load;

namespace NoirCode.Endpoint.Tests.Load;

/// <summary>A short load run (`scripts/bench load` runs 10 minutes on a `noir cloud serve` process): 64 sessions at once on a real gRPC endpoint on loopback.</summary>
public class ConcurrentSessionsLoadTests
{
    [Test]
    public async Task SixtyFourConcurrentSessionsAllProgressAndNoneFails()
    {
        // Room above 64 per tenant: on a starved machine a session may reconnect before the endpoint has closed its old stream.
        // The 64 sessions are one tenant, whose request-rate limit (2,000/s) is not what this test is about.
        await using var host = await EndpointFixture.StartAsync(o => o with { MaxSessionsPerTenant = 128, RequestsPerSecondPerTenant = 1_000_000, TokensPerSecondPerTenant = 100_000_000 });
        var r = SessionLoad.Run(host.Address, Clients.Fingerprint, Clients.Client.Config.HiddenSize, 64, TimeSpan.FromSeconds(6), prefill: 8, maxLength: 48);
        Assert.That(r.Failures, Is.Zero, string.Join("; ", r.FailureMessages.Take(3)));
        Assert.That(r.Steps, Is.GreaterThanOrEqualTo(64 * 2), "every session made progress");
        Assert.That(host.State.Sessions.Count, Is.Zero, "every session closed");
    }
}
