using NoirCode.Attack.Decipherment;

namespace NoirCode.Attack.Tests;

/// <summary>The parts that make the decipherer fast must not change what it computes: the frozen count tables
/// answer as the dictionaries they replace, the cached log-probabilities are the model's, and scoring over distinct
/// trigram windows gives the stream's log-likelihood over positions.</summary>
public class DecipherSpeedPartsTests
{
    [Test]
    public void FrozenMapAnswersAsTheDictionaryItWasMadeFrom()
    {
        var rng = new Random(1);
        var source = new Dictionary<long, int>();
        // Clustered keys (as trigram keys are) and scattered ones, many colliding in a small table.
        for (int i = 0; i < 5000; i++) source[rng.Next(3) == 0 ? rng.NextInt64(1L << 50) : rng.Next(20_000)] = rng.Next(1, 1000);
        var map = FrozenLongMap<int>.From(source);
        Assert.That(map.Count, Is.EqualTo(source.Count));
        foreach (var (k, v) in source) Assert.That(map.TryGetValue(k, out int got) && got == v, $"key {k}");
        for (int i = 0; i < 20_000; i++)
        {
            long k = rng.Next(2) == 0 ? rng.Next(40_000) : rng.NextInt64(1L << 50);
            Assert.That(map.TryGetValue(k, out int got), Is.EqualTo(source.TryGetValue(k, out int want)), $"key {k}");
            Assert.That(got, Is.EqualTo(source.ContainsKey(k) ? want : 0));
        }
        Assert.That(FrozenLongMap<int>.From(new Dictionary<long, int>()).TryGetValue(0, out _), Is.False);
    }

    [Test]
    public void LogTrigramIsTheLogOfTheTrigramBitForBit()
    {
        var rng = new Random(2);
        var docs = Enumerable.Range(0, 30).Select(_ => Enumerable.Range(0, 200).Select(_ => (int)(40 * Math.Pow(rng.NextDouble(), 2))).ToArray()).ToList();
        var lm = new KneserNeyTrigram(docs, 40);
        for (int u = 0; u <= 40; u += 3)
            for (int v = 0; v <= 40; v++)
                for (int w = 0; w < 40; w++)
                    Assert.That(lm.LogTrigram(u, v, w), Is.EqualTo(Math.Log(lm.Trigram(u, v, w))), $"({u} {v} {w})");
    }

    [Test]
    public void DistinctWindowsCoverEveryPositionOnce()
    {
        var rng = new Random(3);
        var sequences = Enumerable.Range(0, 12).Select(i => Enumerable.Range(0, 1 + i * 7).Select(_ => rng.Next(9)).ToArray()).ToList();
        var stream = new CipherStream(sequences);
        var windows = new TrigramWindows(stream);
        Assert.That(windows.Count.Sum(), Is.EqualTo(stream.Length));
        Assert.That(windows.Length, Is.LessThan(stream.Length), "code-like repetition: fewer windows than positions");
        // Each position's window, counted as the class counts it.
        var seen = new Dictionary<(int, int, int), int>();
        for (int q = 0; q < stream.Length; q++)
        {
            int start = stream.SequenceStart[q];
            var key = (q - 2 >= start ? stream.Symbols[q - 2] : windows.Bos, q - 1 >= start ? stream.Symbols[q - 1] : windows.Bos, stream.Symbols[q]);
            seen[key] = seen.GetValueOrDefault(key) + 1;
        }
        for (int t = 0; t < windows.Length; t++) Assert.That(windows.Count[t], Is.EqualTo(seen[(windows.U[t], windows.V[t], windows.W[t])]));
        // A symbol's windows are exactly those that hold it, each once.
        for (int s = 0; s < stream.SymbolCount; s++)
        {
            var expected = Enumerable.Range(0, windows.Length).Where(t => windows.Contains(t, s)).ToArray();
            Assert.That(windows.OfSymbol[s].Order().ToArray(), Is.EqualTo(expected), $"symbol {s}");
        }
    }

    [Test]
    public void TheSearchsCachedLikelihoodIsTheStreamsLikelihoodUnderItsNaming()
    {
        // After many kept moves (renames and homophonic swaps, with cached and bounded deltas), the log-likelihood the
        // search reports must be the one recomputed from scratch over every position under the naming it returns.
        var rng = new Random(4);
        const int vocab = 60;
        var docs = Enumerable.Range(0, 60).Select(_ => Enumerable.Range(0, 300).Select(_ => (int)(vocab * Math.Pow(rng.NextDouble(), 2))).ToArray()).ToList();
        var lm = new KneserNeyTrigram(docs.Take(40), vocab);
        var plain = docs.Skip(40).ToList();
        foreach (int k in new[] { 1, 3 })
        {
            var cipher = k == 1 ? OracleCipher.Encipher(plain, OracleCipher.RandomKey(vocab, 5)) : OracleCipher.EncipherHomophonic(plain, OracleCipher.RandomKey(vocab, 5), k, 6);
            var stream = new CipherStream(cipher);
            var decipherer = new SubstitutionDecipherer(lm, new SubstitutionDecipherer.Settings(Homophones: k), NoirCode.Core.Util.NullProgress.Instance);
            var naming = decipherer.Solve(stream);
            double direct = 0;
            for (int q = 0; q < stream.Length; q++)
            {
                int start = stream.SequenceStart[q];
                int u = q - 2 >= start ? naming[stream.Symbols[q - 2]] : lm.Bos, v = q - 1 >= start ? naming[stream.Symbols[q - 1]] : lm.Bos;
                direct += lm.LogTrigram(u, v, naming[stream.Symbols[q]]);
            }
            Assert.That(decipherer.Trace.Count, Is.GreaterThan(1));
            Assert.That(decipherer.Trace.Sum(t => t.Changed), Is.GreaterThan(0), $"k = {k}: the search moved");
            Assert.That(decipherer.Trace[^1].LogLikelihood, Is.EqualTo(direct).Within(1e-6 * Math.Abs(direct)), $"k = {k}");
            // Every kept move was scored as a gain: a stale kept delta would show as a sweep that lowers the likelihood.
            for (int i = 1; i < decipherer.Trace.Count; i++)
                Assert.That(decipherer.Trace[i].LogLikelihood, Is.GreaterThanOrEqualTo(decipherer.Trace[i - 1].LogLikelihood - 1e-9 * Math.Abs(direct)), $"k = {k}, sweep {i}");
        }
    }
}
