using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Privacy.Egress;
using NoirCode.Privacy.Keys;
using NoirCode.Remote;
using NoirCode.Testing.Wire;
using NoirCode.Protocol;

namespace NoirCode.Endpoint.Tests;

/// <summary>Generation through a real gRPC endpoint on loopback equals local split generation.</summary>
public class EndpointGenerationTests
{
    [Test]
    public async Task GreedyThroughTheEndpointEqualsLocalSplitTokenForToken()
    {
        await using var host = await EndpointFixture.StartAsync();
        foreach (var prompt in new[] { "def binary_search(values, target):\n", "class Inventory:\n    def __init__(self" })
        {
            var local = Clients.GenerateLocally(prompt);
            using var remote = Clients.Remote(Clients.Options(new[] { host.Address }));
            var result = Clients.Generate(remote, prompt);
            Assert.That(result.TokenIds, Is.EqualTo(local.TokenIds), prompt);
            Assert.That(remote.Last.BytesUp, Is.EqualTo(Clients.Client.Config.HiddenSize * 4), "fp32: 4 bytes per value for one decode token");
        }
    }

    [TestCase(WireDtype.Float16, 2)]
    [TestCase(WireDtype.Bfloat16, 2)]
    [TestCase(WireDtype.Int8Blockwise, 1)]
    public async Task CompressedWireFormatsCostTheirBytesAndStayClose(WireDtype dtype, int bytesPerValue)
    {
        await using var host = await EndpointFixture.StartAsync();
        int hidden = Clients.Client.Config.HiddenSize;
        using var remote = Clients.Remote(Clients.Options(new[] { host.Address }, dtype));
        using var local = new Core.Generation.LocalMiddleSession(CloudShard.Load(EndpointFixture.Cloud));
        using var x = TorchSharp.torch.randn(1, 5, hidden);
        using var positions = TorchSharp.torch.arange(5);
        using var a = remote.Forward(x, positions);
        using var b = local.Forward(x, positions);
        long expectedBytes = dtype == WireDtype.Int8Blockwise ? 5 * hidden + 4 * (5 * hidden / 64) : 5L * hidden * bytesPerValue;
        Assert.That(remote.Last.BytesUp, Is.EqualTo(expectedBytes));
        using var error = (a - b).abs().max();
        Assert.That(error.item<float>(), Is.LessThan(dtype == WireDtype.Int8Blockwise ? 0.5f : 0.1f));
    }

    [Test]
    public async Task SixteenConcurrentSessionsAllGetTheirOwnCorrectOutputAndAreBatched()
    {
        await using var host = await EndpointFixture.StartAsync();
        var prompts = Enumerable.Range(0, 16).Select(i => $"def function_{i}(x{i}):\n    return x{i} * {i}").ToArray();
        var expected = prompts.Select(p => Clients.GenerateLocally(p, 12).TokenIds).ToArray();
        // Each session runs on its own client model instance: the client side is not shared between threads.
        var clients = prompts.Select(_ => ClientModel.Load(EndpointFixture.Client)).ToArray();
        var results = await Task.WhenAll(prompts.Select((p, i) => Task.Run(() =>
        {
            using var remote = Clients.Remote(Clients.Options(new[] { host.Address }));
            return Clients.Generate(remote, p, 12, client: clients[i]).TokenIds;
        })));
        for (int i = 0; i < 16; i++) Assert.That(results[i], Is.EqualTo(expected[i]), $"session {i}");
        string metrics = host.State.Metrics.Render();
        long batches = Value(metrics, "noir_decode_batches_total"), rows = Value(metrics, "noir_decode_rows_total");
        Assert.That(rows, Is.EqualTo(16 * 11));
        Assert.That(batches, Is.LessThan(rows), "decode steps of concurrent sessions ran batched");
        foreach (var c in clients) c.Dispose();
    }

    [Test]
    public async Task WireTapOverRealGrpcFindsNothingButHiddenStates()
    {
        await using var host = await EndpointFixture.StartAsync();
        var config = ModelConfig.Load(EndpointFixture.Client);
        var (embedding, _) = PrivacyKeys.ReadEmbedding(EndpointFixture.Client, config);
        var (keys, _) = PrivacyKeys.Generate(embedding, config, Clients.Fingerprint, 13);
        using var client = ClientModel.Load(EndpointFixture.Client, untieHead: true);
        var mapping = keys.ApplyTo(client);
        var guard = new EgressGuard(config.HiddenSize, WireDtype.Float16, keyId: keys.Metadata.KeyId);
        var wire = new WireScan.Capture();
        guard.AddTap(wire);
        const string prompt = "import hashlib\n\ndef password_digest(secret_password: str) -> str:\n    return hashlib.sha256(secret_password.encode()).hexdigest()\n";
        var ids = client.Tokenizer.Encode(prompt);
        using (var remote = Clients.Remote(Clients.Options(new[] { host.Address }, WireDtype.Float16), guard))
        using (var session = new Core.Generation.SplitSession(client, remote, mapping))
            WireScan.DecodeSteps(session, ids, 9);
        Assert.That(wire.Packets, Has.Count.EqualTo(10));
        WireScan.AssertClean(wire.Packets, prompt, ids, keys.Permutation.ToIndex, new[] { embedding, keys.IndexedTable }, config.VocabSize, config.HiddenSize);
        string metrics = host.State.Metrics.Render();
        Assert.That(Value(metrics, "noir_bytes_received_total"), Is.EqualTo(wire.Packets.Sum(p => (long)p.Payload.Length)),
            "the endpoint received exactly the bytes the guard admitted");
    }

    [Test]
    public async Task TruncationRollsTheEndpointBack()
    {
        await using var host = await EndpointFixture.StartAsync();
        var tok = Clients.Client.Tokenizer;
        var prompt = tok.Encode("import os\nimport sys\n").ToArray();
        using var remote = Clients.Remote(Clients.Options(new[] { host.Address }));
        using var edited = new Core.Generation.SplitSession(Clients.Client, remote);
        edited.Append(prompt);
        foreach (int t in new[] { 11, 12, 13, 14 }) edited.Append(new[] { t });
        edited.Truncate(prompt.Length + 1);
        var afterEdit = edited.Append(new[] { 40, 41 });
        using var fresh = new Core.Generation.SplitSession(Clients.Client, new Core.Generation.LocalMiddleSession(CloudShard.Load(EndpointFixture.Cloud)));
        fresh.Append(prompt.Append(11).ToArray());
        var expected = fresh.Append(new[] { 40, 41 });
        Assert.That(afterEdit.Zip(expected).Max(p => Math.Abs(p.First - p.Second)), Is.LessThan(1e-4));
    }

    static long Value(string metrics, string name) =>
        long.Parse(metrics.Split('\n').First(l => l.StartsWith(name + " ", StringComparison.Ordinal)).Split(' ')[1]);
}
