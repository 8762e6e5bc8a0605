using NoirCode.Core.Generation;
using NoirCode.Core.Model;
using NoirCode.Privacy.Egress;
using NoirCode.Privacy.Keys;
using NoirCode.Protocol;
using NoirCode.Tests.Shared;

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
}
