namespace NoirCode.Privacy.Tests;

public class LTokenizerTests
{
    [Test]
    public void RoundTripsEveryToken()
    {
        using var rng = new CtrRandom(CtrRandom.NewKey());
        var p = LTokenizer.Random(1000, rng);
        Assert.That(Enumerable.Range(0, 1000).All(t => p.ToToken(p.ToIndex(t)) == t), Is.True);
        Assert.That(Enumerable.Range(0, 1000).Select(p.ToIndex).Order(), Is.EqualTo(Enumerable.Range(0, 1000)));
        Assert.That(Enumerable.Range(0, 1000).Count(t => p.ToIndex(t) == t), Is.LessThan(10), "not the identity");
        var restored = new LTokenizer(p.Forward.ToArray());
        Assert.That(restored.ToIndex(17), Is.EqualTo(p.ToIndex(17)));
        Assert.Throws<ArgumentException>(() => new LTokenizer(new[] { 0, 0, 1 }));
    }

    [Test]
    public void EveryPermutationIsEquallyLikely()
    {
        using var rng = new CtrRandom(new byte[32]);
        var counts = new Dictionary<string, long>();
        for (int i = 0; i < 60_000; i++)
        {
            string key = string.Join(",", LTokenizer.Random(4, rng).Forward);
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }
        Assert.That(counts, Has.Count.EqualTo(24));
        var (stat, critical) = Stats.ChiSquare(counts.Values.ToArray(), Enumerable.Repeat(1.0 / 24, 24).ToArray());
        Assert.That(stat, Is.LessThan(critical));
    }

    [Test]
    public void RowsAndLogitsMoveConsistently()
    {
        var p = new LTokenizer(new[] { 2, 0, 1 });
        var table = new float[] { 10, 11, 20, 21, 30, 31 }; // token t's row is [10t+.., ..]
        // With ε so large that every feature is kept, INDVocab writes token t's row to row π(t).
        var (indexed, stats) = IndVocab.IndVocabGenerator.Generate(table, 3, 2, 1e9, new byte[32], rowOf: p.Forward);
        Assert.That(stats.KeepRate, Is.EqualTo(1.0), "no overflow at huge ε");
        Assert.That(indexed, Is.EqualTo(new float[] { 20, 21, 30, 31, 10, 11 }), "row π(t) holds token t");
        Assert.That(p.ToTokenLogits(new float[] { 0.5f, 0.6f, 0.7f }), Is.EqualTo(new[] { 0.7f, 0.5f, 0.6f }), "token t scores index π(t)");
    }
}
