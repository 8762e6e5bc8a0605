using NoirCode.Core.Generation;
using NoirCode.Core.Model;

namespace NoirCode.Core.Tests;

/// <summary>Prompt lookup drafting and speculative greedy decoding on the unsplit and in-process split models.</summary>
public class SpeculativeDecodingTests
{
    [Test]
    public void TheDrafterProposesWhatFollowedTheLatestEarlierMatch()
    {
        var drafter = new PromptLookupDrafter(maxNgram: 3, minNgram: 1);
        // "1 2 3" occurs twice earlier; the latest occurrence (followed by 7 8) wins.
        Assert.That(drafter.Draft(new[] { 1, 2, 3, 4, 5, 1, 2, 3, 7, 8, 9, 1, 2, 3 }, 4), Is.EqualTo(new[] { 7, 8, 9, 1 }));
        Assert.That(drafter.Draft(new[] { 1, 2, 3, 4, 5, 1, 2, 3, 7, 8, 9, 1, 2, 3 }, 2), Is.EqualTo(new[] { 7, 8 }));
        // A longer match beats a more recent shorter one: "5 6" → 7, though "6" alone last preceded 9.
        Assert.That(drafter.Draft(new[] { 5, 6, 7, 6, 9, 5, 6 }, 1), Is.EqualTo(new[] { 7 }));
        Assert.That(drafter.Draft(new[] { 1, 2, 3 }, 4), Is.Empty, "nothing earlier matches");
        Assert.That(drafter.Draft(new[] { 1, 2, 1 }, 0), Is.Empty);
        Assert.That(new PromptLookupDrafter(3, 2).Draft(new[] { 4, 1, 9, 4 }, 3), Is.Empty, "a one-token match is below the minimum");
        // Other sequences (recent suggestions) are searched after the sequence itself.
        var elsewhere = new PromptLookupDrafter(3, 1, new IReadOnlyList<int>[] { new[] { 8, 2, 3, 4, 5 } });
        Assert.That(elsewhere.Draft(new[] { 1, 2, 3 }, 3), Is.EqualTo(new[] { 4, 5 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PromptLookupDrafter(1, 0));
    }

    static readonly string[] Prompts =
    {
        "def add(a, b):\n    return a + b\n\ndef sub(a, b):\n    return a - b\n\ndef",
        "import os\nimport sys\nimport",
        "for i in range(10):\n    print(i)\nfor",
        "x = [1, 2, 3, 1, 2, 3, 1, 2",
        "class A:\n    pass\n",
        "q",
    };

    [TestCase("tiny")]
    [TestCase("tiny-llama")]
    public void SpeculativeGreedyEqualsPlainGreedyUnsplitAndSplit(string preset)
    {
        string folder = TestModels.Get(preset);
        using var full = CausalLM.Load(folder);
        using var client = ClientModel.Load(folder, new SplitSpec(1, 1));
        using var cloud = CloudShard.Load(folder, new SplitSpec(1, 1));
        var sessions = new Func<IInferenceSession>[] { () => new LocalSession(full), () => new SplitSession(client, new LocalMiddleSession(cloud)) };
        int trips = 0, kept = 0;
        foreach (var open in sessions)
            foreach (var prompt in Prompts)
            {
                var ids = full.Tokenizer.Encode(prompt);
                GenerationResult Run(SpeculationOptions? s)
                {
                    using var session = open();
                    return TextGenerator.Generate(session, full.Tokenizer, ids, new GenerationOptions { MaxTokens = 24, Speculation = s });
                }
                var plain = Run(null);
                Assert.That(plain.Speculation, Is.Null);
                foreach (var options in new[] { new SpeculationOptions(), new SpeculationOptions { MinNgram = 1, Adaptive = false } })
                {
                    var fast = Run(options);
                    Assert.That(fast.TokenIds, Is.EqualTo(plain.TokenIds), prompt);
                    Assert.That(fast.FinishReason, Is.EqualTo(plain.FinishReason), prompt);
                    trips += fast.Speculation!.Trips; kept += fast.Speculation.Trips + fast.Speculation.Accepted;
                }
            }
        Assert.That(kept, Is.GreaterThan(trips), "some drafts were accepted");
    }

    [Test]
    public void SamplingRunsWithoutSpeculation()
    {
        string folder = TestModels.Get();
        using var full = CausalLM.Load(folder);
        var ids = full.Tokenizer.Encode("import os\nimport");
        GenerationResult Run(SpeculationOptions? s)
        {
            using var session = new LocalSession(full);
            return TextGenerator.Generate(session, full.Tokenizer, ids, new GenerationOptions { MaxTokens = 12, Temperature = 0.8, Seed = 5, Speculation = s });
        }
        var sampled = Run(new SpeculationOptions());
        Assert.That(sampled.Speculation, Is.Null, "no speculative sampling: temperature > 0 decodes one token per step");
        Assert.That(sampled.TokenIds, Is.EqualTo(Run(null).TokenIds));
    }

    /// <summary>A session whose every step takes time, as a round trip to a far endpoint does.</summary>
    sealed class DistantSession(IInferenceSession inner, int stepMs) : IInferenceSession
    {
        bool _prefilled;
        public long Length => inner.Length;
        public float[] Append(IReadOnlyList<int> ids) { Wait(); return inner.Append(ids); }
        public float[][] AppendEach(IReadOnlyList<int> ids) { Wait(); return inner.AppendEach(ids); }
        void Wait() { if (_prefilled) Thread.Sleep(stepMs); _prefilled = true; }
        public void Truncate(long length) => inner.Truncate(length);
        public void Dispose() => inner.Dispose();
    }

    [Test]
    public void TheDecodeTimeCapStillShowsTokensAStepAlreadyVerified()
    {
        string folder = TestModels.Get();
        using var full = CausalLM.Load(folder);
        var ids = full.Tokenizer.Encode(Prompts[3]);
        using var plainSession = new LocalSession(full);
        var plain = TextGenerator.Generate(plainSession, full.Tokenizer, ids, new GenerationOptions { MaxTokens = 40 });
        using var session = new DistantSession(new LocalSession(full), 40);
        var capped = TextGenerator.Generate(session, full.Tokenizer, ids, new GenerationOptions { MaxTokens = 40, MaxDecodeTime = TimeSpan.FromMilliseconds(60), Speculation = new SpeculationOptions() });
        var s = capped.Speculation!;
        Assert.That(capped.FinishReason, Is.EqualTo(GenerationResult.LatencyBudget));
        Assert.That(capped.TokenIds, Has.Count.EqualTo(1 + s.Trips + s.Accepted), "every verified token is shown; decoding stops before the next step");
        Assert.That(plain.TokenIds.Take(capped.TokenIds.Count), Is.EqualTo(capped.TokenIds));
    }
}
