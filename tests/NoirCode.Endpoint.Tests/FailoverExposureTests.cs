using NoirCode.Privacy.Egress;
using NoirCode.Privacy.Ledger;
using NoirCode.Remote;
using static TorchSharp.torch;
using NoirCode.Protocol;

namespace NoirCode.Endpoint.Tests;

/// <summary>
/// A failover replay sends the session's history to an endpoint that has not seen it: those tokens cross the wire
/// again and are charged again, the budget checked before anything is sent (issue 16 item 9).
/// </summary>
public class FailoverExposureTests
{
    static int Hidden => Clients.Client.Config.HiddenSize;

    static long Charged(string ledger) => new ExposureLedger(ledger).Sum(_ => true).Tokens;

    /// <summary>A session on a `noir cloud serve` process with a backup, 20 positions of prompt and 3 steps sent, then
    /// the first endpoint killed.</summary>
    static (RemoteMiddleSession Remote, EndpointServerProcess Dead) SessionWhoseEndpointDies(Uri backup, EgressGuard guard)
    {
        int port = EndpointFixture.FreePort();
        var server = EndpointFixture.StartServerProcess(port);
        var remote = Clients.Remote(Clients.Options(new[] { new Uri($"http://127.0.0.1:{port}"), backup }, attempts: 4), guard);
        using (var prompt = randn(1, 20, Hidden)) using (var p = arange(20)) remote.Forward(prompt, p).Dispose();
        for (int t = 20; t < 23; t++)
            using (var step = randn(1, 1, Hidden)) using (var p = arange(t, t + 1)) remote.Forward(step, p).Dispose();
        server.KillHard();
        return (remote, server);
    }

    [Test]
    public async Task AReplayToAnotherEndpointIsCharged()
    {
        await using var backup = await EndpointFixture.StartAsync();
        string ledger = Path.Combine(EndpointFixture.Root, $"ledger-{Guid.NewGuid():N}");
        var guard = new EgressGuard(Hidden, WireDtype.Float32, new ExposureLedger(ledger));
        var (remote, dead) = SessionWhoseEndpointDies(backup.Address, guard);
        using (remote) using (dead)
        {
            Assert.That(Charged(ledger), Is.EqualTo(23));
            using (var step = randn(1, 1, Hidden)) using (var p = arange(23, 24)) remote.Forward(step, p).Dispose();
            Assert.That(remote.LastEndpoint, Is.EqualTo(backup.Address), "the session moved to the backup");
            // The 23 positions replayed and the step itself went to the backup, which had seen none of them.
            Assert.That(remote.ResentTokens, Is.EqualTo(24));
            Assert.That(Charged(ledger), Is.EqualTo(23 + 1 + 24), "the replay is charged like any send");

            // Further steps to the backup are charged once, as usual.
            using (var step = randn(1, 1, Hidden)) using (var p = arange(24, 25)) remote.Forward(step, p).Dispose();
            Assert.That(Charged(ledger), Is.EqualTo(23 + 1 + 24 + 1));
        }
    }

    [Test]
    public async Task AReplayTheBudgetCannotCoverIsRefusedBeforeAnythingIsSent()
    {
        await using var backup = await EndpointFixture.StartAsync();
        string ledger = Path.Combine(EndpointFixture.Root, $"ledger-{Guid.NewGuid():N}");
        var guard = new EgressGuard(Hidden, WireDtype.Float32, new ExposureLedger(ledger), budget: new ExposureBudget(30));
        var (remote, dead) = SessionWhoseEndpointDies(backup.Address, guard);
        using (remote) using (dead)
        {
            using var step = randn(1, 1, Hidden);
            using var p = arange(23, 24);
            // 24 charged once the step is admitted; replaying the 23 before it to the backup would reach 47, past 30.
            var e = Assert.Throws<ExposureBudgetExceededException>(() => remote.Forward(step, p))!;
            // The exact check refuses under the ledger lock and reports what was used when it refused.
            Assert.That((e.State.UsedTokens, e.State.LimitTokens), Is.EqualTo((24L, 30L)));
            Assert.That(Charged(ledger), Is.EqualTo(24), "nothing of the replay was charged");
            Assert.That(backup.State.Metrics.Render(), Does.Contain("noir_sessions_opened_total 0"), "nor sent: the backup saw no session");
        }
    }
}
