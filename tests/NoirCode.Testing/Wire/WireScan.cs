using System.Text;
using NUnit.Framework;
using NoirCode.Privacy.Egress;
using static TorchSharp.torch;
using NoirCode.Protocol;

namespace NoirCode.Testing.Wire;

/// <summary>
/// Looks in captured egress packets for what must never leave the machine: token ids (true or permuted) in
/// any common integer encoding, fragments of the prompt's text, and embedding rows. Shared by the in-process
/// and the real-gRPC wire-tap tests.
/// </summary>
public static class WireScan
{
    public sealed class Capture : IEgressTap
    {
        public List<EgressPacket> Packets { get; } = new();
        public void Observe(EgressPacket packet) { lock (Packets) Packets.Add(packet); }
    }

    /// <summary>Prefill, then <paramref name="steps"/> greedy decode steps whatever the model emits (an untuned
    /// keyed model may well pick an end token), so the packet count is fixed.</summary>
    public static void DecodeSteps(NoirCode.Core.Generation.IInferenceSession session, IReadOnlyList<int> prompt, int steps)
    {
        var logits = session.Append(prompt);
        for (int i = 0; i < steps; i++) logits = session.Append(new[] { NoirCode.Core.Generation.Sampler.ArgMax(logits, logits.Length) });
    }

    public static void AssertClean(IReadOnlyList<EgressPacket> packets, string prompt, IReadOnlyList<int> promptIds, Func<int, int> toIndex,
        IReadOnlyList<float[]> embeddingTables, int vocab, int hidden)
    {
        Assert.That(packets, Is.Not.Empty);
        Assert.That(packets.All(p => p.Payload.Length == HiddenStateCodec.PayloadBytes(p.Dtype, p.Tokens * hidden)), Is.True,
            "payloads are exactly the encoded hidden states");
        byte[] sent = packets.SelectMany(p => p.Payload.ToArray()).ToArray();

        foreach (var sequence in new[] { promptIds.ToArray(), promptIds.Select(toIndex).ToArray() })
            for (int i = 0; i + 3 <= sequence.Length; i++)
            {
                var window = sequence[i..(i + 3)];
                Assert.That(Contains(sent, window.SelectMany(x => BitConverter.GetBytes(x)).ToArray()), Is.False, "int32 ids");
                Assert.That(Contains(sent, window.SelectMany(x => BitConverter.GetBytes((long)x)).ToArray()), Is.False, "int64 ids");
                Assert.That(Contains(sent, window.SelectMany(x => BitConverter.GetBytes((short)x)).ToArray()), Is.False, "int16 ids");
            }

        foreach (var text in new[] { Encoding.UTF8.GetBytes(prompt), Encoding.Unicode.GetBytes(prompt) })
            for (int i = 0; i + 6 <= text.Length; i += 3)
                Assert.That(Contains(sent, text[i..(i + 6)]), Is.False, $"text fragment at {i}");

        foreach (var tableValues in embeddingTables)
        {
            using var table = tensor(tableValues, new long[] { vocab, hidden });
            foreach (var packet in packets)
            {
                using var vectors = packet.Decode()[0];
                using var distances = cdist(vectors, table);
                Assert.That(distances.min().item<float>(), Is.GreaterThan(1.0f), "a sent vector equals an embedding row");
            }
        }
    }

    static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;
}
