using System.Text;
using NoirCode.Core.Generation;
using NoirCode.Core.Model;
using NoirCode.Privacy.Egress;
using NoirCode.Privacy.Keys;
using static TorchSharp.torch;

namespace NoirCode.Privacy.Tests;

/// <summary>
/// Captures every byte a keyed split generation sends towards the cloud and looks in it for what must not be
/// there: token ids (true or permuted), fragments of the prompt's text, and embedding rows.
/// </summary>
public class WireTapTests
{
    sealed class Capture : IEgressTap
    {
        public List<EgressPacket> Packets { get; } = new();
        public void Observe(EgressPacket packet) => Packets.Add(packet);
    }

    const string Prompt = "import hashlib\n\ndef password_digest(secret_password: str) -> str:\n    return hashlib.sha256(secret_password.encode()).hexdigest()\n";

    [TestCase(WireDtype.Float16)]
    [TestCase(WireDtype.Float32)]
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
        var wire = new Capture();
        guard.AddTap(wire);
        var ids = client.Tokenizer.Encode(Prompt);
        using (var session = new SplitSession(client, new GuardedMiddleSession(guard, new LocalMiddleSession(cloud)), mapping))
        {
            var result = TextGenerator.Generate(session, client.Tokenizer, ids, new GenerationOptions { MaxTokens = 12 });
            Assert.That(result.TokenIds, Has.Count.EqualTo(12));
        }

        Assert.That(wire.Packets, Has.Count.EqualTo(1 + 11), "one prefill, then one packet per decode step");
        Assert.That(wire.Packets.All(p => p.Kind == EgressKind.HiddenStates && p.Payload.LongLength == p.Tokens * config.HiddenSize * HiddenStateCodec.BytesPerValue(dtype)),
            Is.True, "payloads are exactly T × hidden × bytes-per-value");
        byte[] sent = wire.Packets.SelectMany(p => p.Payload).ToArray();

        // 1. No sequence of three token ids, true or permuted, in any common integer encoding.
        foreach (var sequence in new[] { ids.ToArray(), ids.Select(keys.Permutation.ToIndex).ToArray() })
            for (int i = 0; i + 3 <= sequence.Length; i++)
            {
                var window = sequence[i..(i + 3)];
                Assert.That(Contains(sent, window.SelectMany(x => BitConverter.GetBytes(x)).ToArray()), Is.False, "int32 ids");
                Assert.That(Contains(sent, window.SelectMany(x => BitConverter.GetBytes((long)x)).ToArray()), Is.False, "int64 ids");
                Assert.That(Contains(sent, window.SelectMany(x => BitConverter.GetBytes((short)x)).ToArray()), Is.False, "int16 ids");
            }

        // 2. No 6-byte fragment of the prompt's UTF-8 (nor of its UTF-16).
        foreach (var text in new[] { Encoding.UTF8.GetBytes(Prompt), Encoding.Unicode.GetBytes(Prompt) })
            for (int i = 0; i + 6 <= text.Length; i += 3)
                Assert.That(Contains(sent, text[i..(i + 6)]), Is.False, $"text fragment at {i}");

        // 3. No embedding row, public or randomised: every sent vector is far from all of them.
        using var publicRows = tensor(embedding, new long[] { config.VocabSize, config.HiddenSize });
        using var indRows = tensor(keys.IndexedTable, new long[] { config.VocabSize, config.HiddenSize });
        foreach (var packet in wire.Packets)
        {
            using var vectors = HiddenStateCodec.Decode(packet.Payload, packet.Dtype, packet.Tokens, packet.HiddenSize)[0];
            foreach (var table in new[] { publicRows, indRows })
            {
                using var distances = cdist(vectors, table);
                Assert.That(distances.min().item<float>(), Is.GreaterThan(1.0f), "a sent vector equals an embedding row");
            }
        }
    }

    static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;
}
