using NoirCode.Privacy.IndVocab;

namespace NoirCode.Privacy.Tests;

/// <summary>Adaptive Randomized Response (NOIR Eq. 2) on small vocabularies, checked statistically and exactly.</summary>
public class ArrTests
{
    // Eight tokens, m = 4, values spread so that weights exp(−Δ/m) differ clearly between tokens.
    static readonly double[] Column = { -1.3, -0.7, -0.2, 0.0, 0.15, 0.6, 0.9, 1.4 };
    const int M = 4;
    const double EpsilonI = 1.5; // Theorem 1's condition needs ε_i ≥ (Δmax − Δmin)/m ≈ 0.66 here

    static CtrRandom Rng(ulong stream = 0) => new(new byte[32], stream);

    [Test]
    public void ConditionOfTheorem1HoldsForTheTestColumn() =>
        Assert.That(new ArrColumn(Column, EpsilonI, M).Theorem1MinEpsilonPerFeature(), Is.LessThan(EpsilonI));

    [Test]
    public void KeepRateMatchesTheFormula([Values(0, 3, 7)] int t)
    {
        var arr = new ArrColumn(Column, EpsilonI, M);
        // p = e^{ε_i}·q_min / (e^{ε_i}·q_min + 1), q_min = min_{k≠t} w_k / Σ_l w_l
        var w = Column.Select(v => Math.Exp(-Math.Abs(Column[t] - v) / M)).ToArray();
        double qMin = w.Where((_, k) => k != t).Min() / w.Sum();
        double p = Math.Exp(EpsilonI) * qMin / (Math.Exp(EpsilonI) * qMin + 1);
        Assert.That(arr.KeepProbability(t), Is.EqualTo(p).Within(1e-12));
        // and equals the paper's form exp(β)/(exp(β)+|V|−1) with β at the Theorem 1 upper bound
        double beta = EpsilonI + Math.Log(Column.Length - 1) + Math.Log(qMin);
        Assert.That(arr.KeepProbability(t), Is.EqualTo(Math.Exp(beta) / (Math.Exp(beta) + Column.Length - 1)).Within(1e-12));

        const int n = 200_000;
        using var rng = Rng((ulong)t);
        int kept = Enumerable.Range(0, n).Count(_ => arr.Sample(t, rng) == t);
        double sd = Math.Sqrt(p * (1 - p) / n);
        Assert.That((double)kept / n, Is.EqualTo(p).Within(4.5 * sd));
    }

    [Test]
    public void ReplacementsFollowExpOfMinusDistanceOverM([Values(0, 4, 7)] int t)
    {
        var arr = new ArrColumn(Column, EpsilonI, M);
        using var rng = Rng(100 + (ulong)t);
        var counts = new long[Column.Length];
        for (int i = 0; i < 300_000; i++) { int k = arr.Sample(t, rng); if (k != t) counts[k]++; }
        var weights = Column.Select((v, k) => k == t ? 0 : Math.Exp(-Math.Abs(Column[t] - v) / M)).ToArray();
        var expected = weights.Select(x => x / weights.Sum()).ToArray();
        var others = Enumerable.Range(0, Column.Length).Where(k => k != t).ToArray();
        var (stat, critical) = Stats.ChiSquare(others.Select(k => counts[k]).ToArray(), others.Select(k => expected[k]).ToArray());
        Assert.That(stat, Is.LessThan(critical), $"χ² = {stat:F1}, critical {critical:F1}");
    }

    [Test]
    public void LikelihoodRatioOfAnyOutputStaysWithinEToTheEpsilon()
    {
        var arr = new ArrColumn(Column, EpsilonI, M);
        int n = Column.Length;
        double worst = 0;
        for (int a = 0; a < n; a++)
            for (int b = 0; b < n; b++)
                for (int o = 0; o < n; o++)
                    worst = Math.Max(worst, arr.Probability(a, o) / arr.Probability(b, o));
        Assert.That(worst, Is.LessThanOrEqualTo(Math.Exp(EpsilonI) * (1 + 1e-12)), "exact probabilities");

        // Empirically, from samples: every ratio of output frequencies stays under e^ε within sampling error.
        const int draws = 400_000;
        var freq = new double[n, n];
        for (int t = 0; t < n; t++)
        {
            using var rng = Rng(1000 + (ulong)t);
            for (int i = 0; i < draws; i++) freq[t, arr.Sample(t, rng)]++;
        }
        for (int a = 0; a < n; a++)
            for (int b = 0; b < n; b++)
                for (int o = 0; o < n; o++)
                {
                    double fa = freq[a, o], fb = freq[b, o];
                    if (fa < 1000 || fb < 1000) continue;
                    double relativeError = 4.5 * Math.Sqrt(1 / fa + 1 / fb); // delta method on log(fa/fb)
                    Assert.That(Math.Log(fa / fb), Is.LessThanOrEqualTo(EpsilonI + relativeError), $"tokens {a},{b} output {o}");
                }
    }

    [Test]
    public void BelowTheorem1sConditionTheRatioCanExceedTheBound()
    {
        // Documents why keygen refuses ε below the model's minimum: the guarantee really does fail there.
        var arr = new ArrColumn(Column, 0.05, 1);
        Assert.That(arr.Theorem1MinEpsilonPerFeature(), Is.GreaterThan(0.05));
        double worst = 0;
        for (int a = 0; a < Column.Length; a++)
            for (int b = 0; b < Column.Length; b++)
                for (int o = 0; o < Column.Length; o++)
                    worst = Math.Max(worst, arr.Probability(a, o) / arr.Probability(b, o));
        Assert.That(worst, Is.GreaterThan(Math.Exp(0.05)));
    }

    /// <summary>The brute-force worst ln Pr[o | a] / Pr[o | b] over every pair of tokens and every output.</summary>
    static double BruteForceWorstLogRatio(ArrColumn arr)
    {
        double worst = 0;
        for (int a = 0; a < arr.Count; a++)
            for (int b = 0; b < arr.Count; b++)
                for (int o = 0; o < arr.Count; o++)
                    worst = Math.Max(worst, Math.Log(arr.Probability(a, o)) - Math.Log(arr.Probability(b, o)));
        return worst;
    }

    [Test]
    public void TheExactWorstRatioOfAColumnMatchesBruteForceOnAdversarialColumns()
    {
        var rnd = new Random(17);
        var columns = new List<(double[] Values, double EpsilonI, int M)>
        {
            (Column, EpsilonI, M), (Column, 0.05, 1),
            // Outliers, clusters, ties and a wide spread: where β_t (so p_t) differs most between tokens.
            (new[] { -40.0, 0.0, 0.01, 0.02, 0.03, 35.0 }, 2.0, 4), (new[] { 0.0, 0.0, 0.0, 1.0 }, 0.3, 1),
            (new[] { -3.0, -2.9, 2.9, 3.0 }, 1.0, 2), (new[] { -1e-3, 0.0, 1e-3, 50.0, 51.0 }, 5.0, 3),
        };
        for (int i = 0; i < 200; i++)
        {
            int n = rnd.Next(2, 12);
            double scale = Math.Pow(10, rnd.NextDouble() * 3 - 1);
            var values = Enumerable.Range(0, n).Select(_ => rnd.NextDouble() < 0.2 ? Math.Round(rnd.NextDouble() * 2) * scale : (rnd.NextDouble() * 2 - 1) * scale).ToArray();
            columns.Add((values, Math.Pow(10, rnd.NextDouble() * 2 - 1.5), rnd.Next(1, 8)));
        }
        foreach (var (values, epsilonI, m) in columns)
        {
            var arr = new ArrColumn(values, epsilonI, m);
            double exact = BruteForceWorstLogRatio(arr);
            Assert.That(arr.WorstLogRatio(), Is.EqualTo(exact).Within(1e-9 * Math.Max(1, exact)), $"[{string.Join(", ", values)}], ε_i {epsilonI}, m {m}");
        }
    }

    [Test]
    public void AColumnCanExceedItsShareOfEpsilonAndKeygenRecordsTheTrueComposedEpsilon()
    {
        // A column that meets Theorem 1's condition and still loses more than ε_i (found by search; the audit's
        // kind of counterexample): the check at keygen cannot stand in for the true ratio.
        var column = new ArrColumn(new[] { 2.857, -2.294, -2.605, -2.388, -1.56, 2.689, -0.79 }, 5.4, 1);
        Assert.That(column.Theorem1MinEpsilonPerFeature(), Is.LessThanOrEqualTo(5.4));
        Assert.That(column.WorstLogRatio(), Is.GreaterThan(5.4 + 0.4));

        const int v = 40, m = 6;
        var rnd = new Random(5);
        var embedding = Enumerable.Range(0, v * m).Select(i => (float)((i % m == 0 && i / m == 7 ? 30 : 1) * (rnd.NextDouble() - 0.5))).ToArray();
        var (_, stats) = IndVocabGenerator.Generate(embedding, v, m, 13, new byte[32]);
        double expected = Enumerable.Range(0, m).Sum(i =>
            new ArrColumn(Enumerable.Range(0, v).Select(t => (double)embedding[t * m + i]).ToArray(), 13.0 / m, m).WorstLogRatio());
        Assert.That(stats.ComposedEpsilon, Is.EqualTo(expected).Within(1e-9));
        Assert.That(stats.WorstColumnLogRatio, Is.GreaterThan(0).And.LessThanOrEqualTo(stats.ComposedEpsilon));
    }

    [Test]
    public void FastSamplerAgreesWithTheNaiveFormulaInDistribution([Values(0, 5, 15)] int t)
    {
        var rnd = new Random(3);
        var column = Enumerable.Range(0, 16).Select(_ => rnd.NextDouble() * 2 - 1).ToArray();
        var arr = new ArrColumn(column, 0.9, 3);
        using var fastRng = Rng(7);
        using var naiveRng = Rng(8);
        var fast = new long[16];
        var naive = new long[16];
        for (int i = 0; i < 200_000; i++)
        {
            fast[arr.Sample(t, fastRng)]++;
            naive[ArrNaiveSampler.Sample(column, t, 0.9, 3, naiveRng)]++;
        }
        var (stat, critical) = Stats.Homogeneity(fast, naive);
        Assert.That(stat, Is.LessThan(critical), $"χ² = {stat:F1}, critical {critical:F1}");
        var exact = Enumerable.Range(0, 16).Select(o => arr.Probability(t, o)).ToArray();
        Assert.That(exact.Sum(), Is.EqualTo(1).Within(1e-12));
        var (stat2, critical2) = Stats.ChiSquare(fast, exact);
        Assert.That(stat2, Is.LessThan(critical2));
    }

    [Test]
    public void PrefixSumsGiveTheExactProbabilitiesOnALargeColumn()
    {
        var rnd = new Random(5);
        var column = Enumerable.Range(0, 2000).Select(_ => rnd.NextDouble() * 0.4 - 0.2).ToArray();
        var arr = new ArrColumn(column, 13.0 / 64, 64);
        foreach (int t in new[] { 0, 1, 999, 1999 })
        {
            var w = column.Select(v => Math.Exp(-Math.Abs(column[t] - v) / 64)).ToArray();
            double z = w.Sum(), others = z - 1;
            double qMin = w.Where((_, k) => k != t).Min() / z;
            double p = Math.Exp(13.0 / 64) * qMin / (Math.Exp(13.0 / 64) * qMin + 1);
            Assert.That(arr.KeepProbability(t), Is.EqualTo(p).Within(1e-12));
            foreach (int o in new[] { (t + 1) % 2000, (t + 777) % 2000 })
                Assert.That(arr.Probability(t, o), Is.EqualTo((1 - p) * w[o] / others).Within(1e-15));
        }
        // At these scales (Δ/m ~ 1e-3) almost every feature is replaced: p ≈ 1/|V| (notes §2.6).
        Assert.That(arr.KeepProbability(0), Is.EqualTo(1.0 / 2000).Within(0.5 / 2000));
    }

    [Test]
    public void GeneratorIsAFunctionOfTheKeyAndOnlyMovesValuesWithinAColumn()
    {
        int v = 300, m = 24;
        var rnd = new Random(11);
        var embedding = Enumerable.Range(0, v * m).Select(_ => (float)(rnd.NextDouble() - 0.5)).ToArray();
        var key = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        var (a, stats) = IndVocabGenerator.Generate(embedding, v, m, 13, key);
        var (b, _) = IndVocabGenerator.Generate(embedding, v, m, 13, key, maxParallelism: 1);
        var (c, _) = IndVocabGenerator.Generate(embedding, v, m, 13, CtrRandom.NewKey());
        Assert.That(b, Is.EqualTo(a), "same key, same table, however the work is scheduled");
        Assert.That(c, Is.Not.EqualTo(a));
        for (int i = 0; i < m; i++)
        {
            var original = Enumerable.Range(0, v).Select(t => embedding[t * m + i]).ToHashSet();
            Assert.That(Enumerable.Range(0, v).All(t => original.Contains(a[t * m + i])), Is.True, $"feature {i}");
        }
        Assert.That(stats.KeepRate, Is.LessThan(0.05), "at ε = 13 nearly every feature is replaced");
        Assert.That(stats.MeanL1, Is.GreaterThan(0));
        Assert.That(stats.Theorem1Holds, Is.True);
    }

    [Test]
    public void CtrRandomIsUniformAndStreamsDiffer()
    {
        using var a = new CtrRandom(new byte[32], 0);
        using var b = new CtrRandom(new byte[32], 1);
        Assert.That(a.NextUInt64(), Is.Not.EqualTo(b.NextUInt64()));
        var counts = new long[10];
        for (int i = 0; i < 100_000; i++) counts[a.NextInt(10)]++;
        var (stat, critical) = Stats.ChiSquare(counts, Enumerable.Repeat(0.1, 10).ToArray());
        Assert.That(stat, Is.LessThan(critical));
        Assert.Throws<ArgumentException>(() => new CtrRandom(new byte[16]));
    }
}
