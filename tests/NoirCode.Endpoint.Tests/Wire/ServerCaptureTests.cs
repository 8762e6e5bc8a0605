using NoirCode.Core.Generation;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Privacy.Egress;
using NoirCode.Privacy.Keys;
using NoirCode.Protocol;
using NoirCode.Remote;
using NoirCode.Testing.Wire;
using static TorchSharp.torch;

namespace NoirCode.Endpoint.Tests.Wire;

/// <summary>
/// The bytes a real endpoint received (recorded on the server, over gRPC on loopback) are exactly the egress
/// guard's packets: same order, same positions, same dtype and shape, byte for byte. Nothing reaches the endpoint
/// that the guard did not admit, and the transport changes nothing on the way.
/// </summary>
public class ServerCaptureTests
{
    [TestCase(WireDtype.Float16)]
    [TestCase(WireDtype.Int8Blockwise)]
    public async Task TheEndpointReceivesExactlyTheGuardsPackets(WireDtype dtype)
    {
        var received = new List<(ulong Start, HiddenBlock Block)>();
        await using var host = await EndpointFixture.StartAsync(grpc: g => g.Interceptors.Add<ReceivedBlocks>(received));
        var config = ModelConfig.Load(EndpointFixture.Client);
        var (embedding, _) = PrivacyKeys.ReadEmbedding(EndpointFixture.Client, config);
        var (keys, _) = PrivacyKeys.Generate(embedding, config, Clients.Fingerprint, 13);
        using var client = ClientModel.Load(EndpointFixture.Client, untieHead: true);
        var mapping = keys.ApplyTo(client);
        var guard = new EgressGuard(config.HiddenSize, dtype, keyId: keys.Metadata.KeyId);
        var wire = new WireScan.Capture();
        guard.AddTap(wire);
        var ids = client.Tokenizer.Encode("def private_helper(token: str) -> bool:\n    return token.startswith('sk-')\n");
        using (var remote = Clients.Remote(Clients.Options(new[] { host.Address }, dtype), guard))
        using (var session = new SplitSession(client, remote, mapping))
        {
            WireScan.DecodeSteps(session, ids, 5);
            session.Truncate(ids.Count - 3); // an edit: the next step rolls the endpoint back
            WireScan.DecodeSteps(session, new[] { ids[^3] }, 2);
        }

        Assert.That(wire.Packets, Has.Count.EqualTo(1 + 5 + 1 + 2));
        Assert.That(received, Has.Count.EqualTo(wire.Packets.Count), "one forward step per packet, and no other");
        for (int i = 0; i < wire.Packets.Count; i++)
        {
            var (start, block) = received[i];
            var packet = wire.Packets[i];
            Assert.That((start, block.Dtype, (long)block.Tokens, (int)block.Hidden), Is.EqualTo(((ulong)packet.StartPosition, packet.Dtype, packet.Tokens, packet.HiddenSize)), $"step {i}");
            Assert.That(block.Data.Concat(block.Scales).ToArray(), Is.EqualTo(packet.Payload.ToArray()), $"step {i}: the bytes received are the guard's");
        }
    }

    /// <summary>After a failover, the backup receives the replayed history and the request: exactly the packets the
    /// guard charged again for it (<see cref="EgressGuard.AdmitResend"/>), byte for byte and in order.</summary>
    [Test]
    public async Task AFailoverReplayIsExactlyWhatTheGuardChargedAgain()
    {
        var received = new List<(ulong Start, HiddenBlock Block)>();
        await using var backup = await EndpointFixture.StartAsync(grpc: g => g.Interceptors.Add<ReceivedBlocks>(received));
        int hidden = Clients.Client.Config.HiddenSize, port = EndpointFixture.FreePort();
        var guard = new EgressGuard(hidden, WireDtype.Float16);
        var wire = new WireScan.Capture();
        guard.AddTap(wire);
        using var first = EndpointFixture.StartServerProcess(port);
        using var remote = Clients.Remote(Clients.Options(new[] { first.Address, backup.Address }, WireDtype.Float16, attempts: 4), guard);
        using (var prompt = randn(1, 12, hidden)) using (var p = arange(12)) remote.Forward(prompt, p).Dispose();
        for (int t = 12; t < 15; t++)
            using (var step = randn(1, 1, hidden)) using (var p = arange(t, t + 1)) remote.Forward(step, p).Dispose();
        Assert.That(received, Is.Empty, "the backup has seen nothing yet");
        first.KillHard();
        using (var step = randn(1, 1, hidden)) using (var p = arange(15, 16)) remote.Forward(step, p).Dispose();

        Assert.That(remote.LastEndpoint, Is.EqualTo(backup.Address));
        // Tapped: 4 sends, the 5th admitted, then the 4 replayed and the 5th charged again for the backup.
        Assert.That(wire.Packets, Has.Count.EqualTo(5 + 5));
        var chargedAgain = wire.Packets.Skip(5).ToList();
        Assert.That(chargedAgain.Select(p => p.StartPosition), Is.EqualTo(new long[] { 0, 12, 13, 14, 15 }));
        Assert.That(received.Select(r => (long)r.Start), Is.EqualTo(chargedAgain.Select(p => p.StartPosition)));
        for (int i = 0; i < received.Count; i++)
            Assert.That(received[i].Block.Data.Concat(received[i].Block.Scales).ToArray(), Is.EqualTo(chargedAgain[i].Payload.ToArray()), $"block {i}");
    }
}
