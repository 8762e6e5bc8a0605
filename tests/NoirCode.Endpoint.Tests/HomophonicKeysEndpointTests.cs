using NoirCode.Core.Generation;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Privacy.Egress;
using NoirCode.Privacy.Keys;
using NoirCode.Testing.Wire;
using NoirCode.Protocol;

namespace NoirCode.Endpoint.Tests;

/// <summary>Homophonic keys through a real endpoint on loopback: a token stops arriving as one symbol.</summary>
public class HomophonicKeysEndpointTests
{
    static (PrivacyKeys Keys, float[] Embedding, ModelConfig Config) Keys(int homophones, double epsilon = 13, byte[]? seed = null)
    {
        var config = ModelConfig.Load(EndpointFixture.Client);
        var (embedding, _) = PrivacyKeys.ReadEmbedding(EndpointFixture.Client, config);
        return (PrivacyKeys.Generate(embedding, config, Clients.Fingerprint, epsilon, seedKey: seed, homophones: homophones).Keys, embedding, config);
    }

    /// <summary>The distinct packets the endpoint receives for the same one-token request sent in fresh sessions.</summary>
    static int DistinctSymbols(Uri endpoint, int homophones, int sessions)
    {
        var (keys, embedding, config) = Keys(homophones);
        using var client = ClientModel.Load(EndpointFixture.Client, untieHead: true);
        var mapping = keys.ApplyTo(client);
        var guard = new EgressGuard(config.HiddenSize, WireDtype.Float16, keyId: keys.Metadata.KeyId);
        var wire = new WireScan.Capture();
        guard.AddTap(wire);
        var ids = client.Tokenizer.Encode("secret_token").Take(1).ToArray(); // one token: its only context is itself
        for (int i = 0; i < sessions; i++)
        {
            using var remote = Clients.Remote(Clients.Options(new[] { endpoint }, WireDtype.Float16), guard);
            using var session = new SplitSession(client, remote, mapping);
            session.Append(ids);
        }
        Assert.That(wire.Packets, Has.Count.EqualTo(sessions));
        WireScan.AssertClean(wire.Packets, client.Tokenizer.Decode(ids), ids, keys.Permutation.ToIndex, new[] { embedding, keys.IndexedTable[..(config.VocabSize * config.HiddenSize)] },
            config.VocabSize, config.HiddenSize);
        return wire.Packets.Select(p => Convert.ToHexString(p.Payload.Span)).Distinct().Count();
    }

    [Test]
    public async Task TheSameRequestArrivesAsOneOfKSymbolsUnderHomophonicKeysAndAsOneWithout()
    {
        await using var host = await EndpointFixture.StartAsync();
        Assert.That(DistinctSymbols(host.Address, homophones: 1, sessions: 12), Is.EqualTo(1), "a substitution cipher: one symbol per request");
        Assert.That(DistinctSymbols(host.Address, homophones: 4, sessions: 40), Is.EqualTo(4), "four rows per token, each chosen (40 draws miss one with p < 1e-4)");
    }

    [Test]
    public async Task HomophonesOfEqualRowsGiveTheLTokenizerSessionsOutputsThroughTheEndpoint()
    {
        // With ε so large that every table keeps the public embedding, the k rows of a token are equal, so the
        // homophonic split must reproduce the single-table split exactly, end to end.
        await using var host = await EndpointFixture.StartAsync();
        var seed = Privacy.CtrRandom.NewKey(); // the same seed: the same LTokenizer, and table 0 is the single table
        var (keys, _, config) = Keys(4, epsilon: 1e7, seed: seed);
        var (single, _, _) = Keys(1, epsilon: 1e7, seed: seed);
        using var a = ClientModel.Load(EndpointFixture.Client, untieHead: true);
        using var b = ClientModel.Load(EndpointFixture.Client, untieHead: true);
        var plainMapping = single.ApplyTo(a);
        var homophonic = keys.ApplyTo(b);
        var ids = a.Tokenizer.Encode("def add(a, b):\n    return a + b + a + b\n");
        float[] Run(ClientModel c, IVocabularyMapping m)
        {
            using var remote = Clients.Remote(Clients.Options(new[] { host.Address }));
            using var session = new SplitSession(c, remote, m);
            var logits = session.Append(ids);
            return Enumerable.Range(0, config.VocabSize).Select(t => logits[t]).ToArray();
        }
        var expected = Run(a, plainMapping);
        var actual = Run(b, homophonic);
        Assert.That(actual, Is.EqualTo(expected).Within(1e-3));
    }
}
