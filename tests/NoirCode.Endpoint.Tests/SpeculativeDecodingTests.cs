using NoirCode.Core.Generation;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Privacy.Egress;
using NoirCode.Privacy.Keys;
using NoirCode.Privacy.Ledger;
using NoirCode.Protocol;

namespace NoirCode.Endpoint.Tests;

/// <summary>
/// Speculative split decoding through a real gRPC endpoint on loopback: the same tokens as one-token-per-step
/// greedy decoding, in fewer round trips, with every draft that crossed the wire charged.
/// </summary>
public class SpeculativeDecodingTests
{
    // Code that repeats itself (as code does), so prompt lookup has something to draft from, and code that does not.
    static readonly string[] Prompts =
    {
        "def add(a, b):\n    return a + b\n\ndef sub(a, b):\n    return a - b\n\ndef mul(a, b):\n",
        "import os\nimport sys\nimport json\nimport re\nimport",
        "for i in range(10):\n    print(i)\nfor j in range(10):\n    print(j)\nfor k in range(10):\n",
        "class Point:\n    def __init__(self, x, y):\n        self.x = x\n        self.y = y\n",
        "values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16",
        "def binary_search(values, target):\n",
        "if x > 0:\n    y = x\nelif x < 0:\n    y = -x\nelse:\n",
        "self.a = a\nself.b = b\nself.c = c\nself.d = d\nself.",
        "# a comment\n# another comment\n# yet another comment\n#",
        "while True:\n    line = read()\n    if not line:\n        break\n",
        "x",
        "return {'name': name, 'value': value, 'name': name, 'value':",
        "assert f(1) == 1\nassert f(2) == 4\nassert f(3) == 9\nassert f(4) ==",
        "SELECT id, name FROM users WHERE id = 1;\nSELECT id, name FROM users WHERE",
        "try:\n    open(path)\nexcept OSError:\n    pass\ntry:\n",
        "<div><span></span><span></span><span>",
    };

    static GenerationResult Run(ClientModel client, IMiddleSession middle, IVocabularyMapping? mapping, string prompt, SpeculationOptions? speculation,
        int tokens = 20, int maxLength = int.MaxValue, string[]? stops = null)
    {
        using var session = new SplitSession(client, middle, mapping);
        return TextGenerator.Generate(session, client.Tokenizer, client.Tokenizer.Encode(prompt),
            new GenerationOptions { MaxTokens = tokens, Speculation = speculation, MaxSequenceLength = maxLength, StopStrings = stops ?? Array.Empty<string>() });
    }

    static void AssertSameAsGreedy(ClientModel client, Uri endpoint, IVocabularyMapping? mapping, WireDtype wire)
    {
        int trips = 0, kept = 0, drafted = 0;
        foreach (var prompt in Prompts)
        {
            var plain = Run(client, Clients.Remote(Clients.Options(new[] { endpoint }, wire)), mapping, prompt, null);
            foreach (var speculation in new[] { new SpeculationOptions(), new SpeculationOptions { MinNgram = 1, Adaptive = false }, new SpeculationOptions { DraftTokens = 3, MaxNgram = 2, MinNgram = 2 } })
            {
                var fast = Run(client, Clients.Remote(Clients.Options(new[] { endpoint }, wire)), mapping, prompt, speculation);
                Assert.That(fast.TokenIds, Is.EqualTo(plain.TokenIds), prompt);
                Assert.That(fast.FinishReason, Is.EqualTo(plain.FinishReason), prompt);
                Assert.That(fast.Text, Is.EqualTo(plain.Text), prompt);
                var s = fast.Speculation!;
                trips += s.Trips; kept += s.Trips + s.Accepted; drafted += s.Drafted;
            }
        }
        // Not vacuous: drafts were verified, some kept, some rejected, and the round trips were fewer than the tokens.
        Assert.That(kept, Is.GreaterThan(trips), "some drafts were accepted");
        Assert.That(drafted, Is.GreaterThan(kept - trips), "some drafts were rejected");
        TestContext.Out.WriteLine($"{(double)kept / trips:F2} tokens per round trip, {(double)(drafted - (kept - trips)) / kept:F2} extra sent per token kept");
    }

    [Test]
    public async Task SpeculativeGreedyEqualsPlainGreedyTokenForTokenThroughARealEndpoint()
    {
        await using var host = await EndpointFixture.StartAsync();
        AssertSameAsGreedy(Clients.Client, host.Address, null, WireDtype.Float32);
    }

    [Test]
    public async Task SpeculativeGreedyEqualsPlainGreedyUnderPrivacyKeysAndFp16()
    {
        await using var host = await EndpointFixture.StartAsync();
        var config = ModelConfig.Load(EndpointFixture.Client);
        var keys = Clients.FreshKeys();
        using var client = ClientModel.Load(EndpointFixture.Client, untieHead: true);
        var mapping = keys.ApplyTo(client);
        AssertSameAsGreedy(client, host.Address, mapping, WireDtype.Float16);
    }

    [Test]
    public async Task LimitsAndStopsEndSpeculativeDecodingWherePlainDecodingEnds()
    {
        await using var host = await EndpointFixture.StartAsync();
        foreach (var prompt in Prompts.Take(6))
        {
            int promptTokens = Clients.Client.Tokenizer.Encode(prompt).Count;
            foreach (var (tokens, maxLength, stops) in new[] { (7, int.MaxValue, (string[]?)null), (40, promptTokens + 5, null), (30, int.MaxValue, new[] { "\n" }), (30, int.MaxValue, new[] { "(" }) })
            {
                var plain = Run(Clients.Client, Clients.Remote(Clients.Options(new[] { host.Address })), null, prompt, null, tokens, maxLength, stops);
                var fast = Run(Clients.Client, Clients.Remote(Clients.Options(new[] { host.Address })), null, prompt, new SpeculationOptions(), tokens, maxLength, stops);
                Assert.That((fast.TokenIds, fast.FinishReason, fast.Text), Is.EqualTo((plain.TokenIds, plain.FinishReason, plain.Text)), $"{prompt} / {tokens} / {maxLength}");
            }
        }
    }

    [Test]
    public async Task RejectedDraftsAreChargedToTheLedgerAndCountAgainstTheBudget()
    {
        await using var host = await EndpointFixture.StartAsync();
        var ledger = new ExposureLedger(Path.Combine(EndpointFixture.Root, "ledger-" + Guid.NewGuid().ToString("N")));
        var guard = new EgressGuard(Clients.Client.Config.HiddenSize, WireDtype.Float32, ledger, keyId: "spec");
        var plainGuard = new EgressGuard(Clients.Client.Config.HiddenSize, WireDtype.Float32);
        long charged = 0, plainSent = 0;
        int rejected = 0;
        foreach (var prompt in Prompts.Take(8))
        {
            int promptTokens = Clients.Client.Tokenizer.Encode(prompt).Count;
            using var remote = Clients.Remote(Clients.Options(new[] { host.Address }), guard);
            var fast = Run(Clients.Client, remote, null, prompt, new SpeculationOptions());
            using var plainRemote = Clients.Remote(Clients.Options(new[] { host.Address }), plainGuard);
            Run(Clients.Client, plainRemote, null, prompt, null);
            var s = fast.Speculation!;
            Assert.That(remote.Total.Tokens, Is.EqualTo(promptTokens + s.PositionsSent), "every verified position crossed the wire, rejected drafts included");
            charged += remote.Total.Tokens;
            plainSent += plainRemote.Total.Tokens;
            rejected += s.Drafted - s.Accepted;
        }
        Assert.That(rejected, Is.GreaterThan(0));
        Assert.That(ledger.Sum(k => k.Key == "spec").Tokens, Is.EqualTo(charged), "the ledger holds every position sent");
        Assert.That(charged, Is.GreaterThanOrEqualTo(plainSent + rejected), "rejected drafts cost exposure on top of what plain decoding sends");

        // The budget counts them: with exactly what was sent as the limit, nothing more may leave.
        guard.Budget = new ExposureBudget(charged);
        using var blocked = Clients.Remote(Clients.Options(new[] { host.Address }), guard);
        Assert.Throws<ExposureBudgetExceededException>(() => Run(Clients.Client, blocked, null, Prompts[0], new SpeculationOptions()));
    }
}
