using NoirCode.Core.Generation;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Privacy.Egress;
using NoirCode.Privacy.Keys;
using NoirCode.Testing.Wire;
using NoirCode.Protocol;

namespace NoirCode.Privacy.Tests;

/// <summary>
/// Captures every byte a keyed split generation sends towards the cloud (in process, through the egress guard)
/// and looks in it for what must not be there. The same scan runs over a real gRPC connection in the endpoint tests.
/// </summary>
public class WireTapTests
{
    public const string Prompt = "import hashlib\n\ndef password_digest(secret_password: str) -> str:\n    return hashlib.sha256(secret_password.encode()).hexdigest()\n";

    [TestCase(WireDtype.Float16)]
    [TestCase(WireDtype.Float32)]
    [TestCase(WireDtype.Int8Blockwise)]
    public void NothingButHiddenStatesLeaves(WireDtype dtype)
    {
        string model = Fixtures.Model;
        var config = ModelConfig.Load(model);
        var (embedding, _) = PrivacyKeys.ReadEmbedding(model, config);
        var (keys, _) = PrivacyKeys.Generate(embedding, config, ModelFingerprint.Of(model), 13);
        using var client = ClientModel.Load(model, untieHead: true);
        using var cloud = CloudShard.Load(model);
        var mapping = keys.ApplyTo(client);
        var guard = new EgressGuard(config.HiddenSize, dtype, keyId: keys.Metadata.KeyId);
        var wire = new WireScan.Capture();
        guard.AddTap(wire);
        var ids = client.Tokenizer.Encode(Prompt);
        using (var session = new SplitSession(client, new GuardedMiddleSession(guard, new LocalMiddleSession(cloud)), mapping))
            WireScan.DecodeSteps(session, ids, 11);
        Assert.That(wire.Packets, Has.Count.EqualTo(1 + 11), "one prefill, then one packet per decode step");
        WireScan.AssertClean(wire.Packets, Prompt, ids, keys.Permutation.ToIndex, new[] { embedding, keys.IndexedTable }, config.VocabSize, config.HiddenSize);
    }

    [Test]
    public void Int8BlockwiseErrorIsBoundedByTheBlockScale()
    {
        using var x = TorchSharp.torch.randn(1, 7, 64) * 3;
        var packet = new EgressGuard(64, WireDtype.Int8Blockwise).Admit(x, EgressKind.HiddenStates, 0);
        Assert.That(packet.Payload.Length, Is.EqualTo(7 * 64 + 4 * 7), "one byte per value plus one float scale per 64");
        using var back = packet.Decode();
        using var error = (back - x).abs().max();
        using var scale = x.abs().max() / 127;
        Assert.That(error.item<float>(), Is.LessThanOrEqualTo(scale.item<float>() * 0.5f + 1e-6f));
    }
}
