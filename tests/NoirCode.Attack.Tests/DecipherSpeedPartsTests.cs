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
}
