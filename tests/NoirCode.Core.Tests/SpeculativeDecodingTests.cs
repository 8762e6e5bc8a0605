using NoirCode.Core.Generation;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Testing.Sessions;

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

    /// <summary>A second-order Markov chain over a few tokens as a session: the logits after a token depend on it and
    /// the one before, so a wrong roll-back after a rejected draft changes what follows.</summary>
    sealed class MarkovSession(float[][] table, int vocab, IReadOnlyList<int> context) : IInferenceSession
    {
        readonly List<int> _ids = context.ToList();
        public long Length => _ids.Count;
        public float[] Append(IReadOnlyList<int> ids) => AppendEach(ids)[^1];
        public float[][] AppendEach(IReadOnlyList<int> ids) => ids.Select(id => { _ids.Add(id); return Row(_ids); }).ToArray();
        public void Truncate(long length) => _ids.RemoveRange((int)length, _ids.Count - (int)length);
        public float[] Row(IReadOnlyList<int> ids) => table[ids[^2] * vocab + ids[^1]];
        public void Dispose() { }
    }

    [TestCase(1.0, 1.0)]
    [TestCase(0.8, 0.95)]
    public void SpeculativeSamplingDrawsFromTheSameDistributionAsPlainSampling(double temperature, double topP)
    {
        // The exact probability of every 3-token continuation of a known chain, against 20,000 speculative runs: a
        // chi-square over the 125 continuations. Accepting a draft whenever greedy would (or always) is far off.
        const int vocab = 5, tokens = 3, runs = 20_000;
        var random = new Random(11);
        // Random logits, with a lean towards the prompt's cycle 0 1 2 so that drafts are often right and often wrong.
        var table = Enumerable.Range(0, vocab * vocab)
            .Select(row => Enumerable.Range(0, vocab).Select(t => (float)(random.NextDouble() * 3 + (t == (row % vocab + 1) % 3 ? 2 : 0))).ToArray()).ToArray();
        int[] prompt = { 0, 1, 2, 0, 1, 2, 0, 1 };   // plenty for prompt lookup to draft from
        var probe = new Sampler(temperature, topP, seed: null);
        var chain = new MarkovSession(table, vocab, Array.Empty<int>());
        var expected = new double[(int)Math.Pow(vocab, tokens)];
        for (int cell = 0; cell < expected.Length; cell++)
        {
            var seq = prompt.ToList();
            double p = 1;
            for (int k = 0, rest = cell; k < tokens; k++, rest /= vocab)
            {
                int next = rest % vocab;
                p *= probe.Probability(chain.Row(seq), vocab, next);
                seq.Add(next);
            }
            expected[cell] = p * runs;
        }
        var sampler = new Sampler(temperature, topP, seed: 3);
        var observed = new double[expected.Length];
        int drafted = 0, accepted = 0;
        for (int run = 0; run < runs; run++)
        {
            var session = new MarkovSession(table, vocab, prompt[..^1]);
            var logits = session.Append(new[] { prompt[^1] });
            var decoder = new SpeculativeDecoder(session, new SpeculationOptions { MinNgram = 1, Adaptive = false, DraftTokens = 3 }, prompt, logits, vocab, sampler);
            int cell = 0;
            for (int k = 0, scale = 1; k < tokens; k++, scale *= vocab) cell += decoder.Next(tokens - k - 1) * scale;
            observed[cell]++;
            drafted += decoder.Stats.Drafted; accepted += decoder.Stats.Accepted;
        }
        // Cells expected below 5 pooled, as a chi-square test needs.
        double chi = 0, poolExpected = 0, poolObserved = 0;
        int cells = 0;
        for (int c = 0; c < expected.Length; c++)
        {
            if (expected[c] < 5) { poolExpected += expected[c]; poolObserved += observed[c]; continue; }
            chi += Math.Pow(observed[c] - expected[c], 2) / expected[c];
            cells++;
        }
        if (poolExpected > 0) { chi += Math.Pow(poolObserved - poolExpected, 2) / poolExpected; cells++; }
        // The 1 − 10⁻⁶ quantile of χ² with cells − 1 degrees of freedom is below df + 8·√(2·df) for these sizes.
        double df = cells - 1, limit = df + 8 * Math.Sqrt(2 * df);
        TestContext.Out.WriteLine($"χ² = {chi:F1} over {cells} cells (limit {limit:F1}); {accepted} of {drafted} drafts accepted");
        Assert.That(accepted, Is.GreaterThan(runs / 10), "drafts were accepted");
        Assert.That(drafted - accepted, Is.GreaterThan(runs / 10), "and rejected");
        Assert.That(chi, Is.LessThan(limit));
    }

    [Test]
    public void SamplingIsSpeculativeAndTheSameSeedGivesTheSameTokens()
    {
        string folder = TestModels.Get();
        using var full = CausalLM.Load(folder);
        var ids = full.Tokenizer.Encode("import os\nimport sys\nimport os\nimport");
        GenerationResult Run(SpeculationOptions? s)
        {
            using var session = new LocalSession(full);
            return TextGenerator.Generate(session, full.Tokenizer, ids, new GenerationOptions { MaxTokens = 12, Temperature = 0.8, Seed = 5, Speculation = s });
        }
        var sampled = Run(new SpeculationOptions());
        Assert.That(sampled.Speculation, Is.Not.Null, "speculative sampling at temperature > 0");
        Assert.That(Run(new SpeculationOptions()).TokenIds, Is.EqualTo(sampled.TokenIds), "a seed makes it repeatable");
    }

    [Test]
    public void TheDeadlineStillShowsTokensAStepAlreadyVerified()
    {
        string folder = TestModels.Get();
        using var full = CausalLM.Load(folder);
        var ids = full.Tokenizer.Encode(Prompts[3]);
        using var plainSession = new LocalSession(full);
        var plain = TextGenerator.Generate(plainSession, full.Tokenizer, ids, new GenerationOptions { MaxTokens = 40 });
        using var session = new DelayedSession(new LocalSession(full), 0, 40);
        var capped = TextGenerator.Generate(session, full.Tokenizer, ids, new GenerationOptions { MaxTokens = 40, ShowBy = TimeSpan.FromMilliseconds(60), Speculation = new SpeculationOptions() });
        var s = capped.Speculation!;
        Assert.That(capped.FinishReason, Is.EqualTo(GenerationResult.LatencyBudget));
        Assert.That(capped.TokenIds, Has.Count.EqualTo(1 + s.Trips + s.Accepted), "every verified token is shown; decoding stops before the next step");
        Assert.That(plain.TokenIds.Take(capped.TokenIds.Count), Is.EqualTo(capped.TokenIds));
    }
}
