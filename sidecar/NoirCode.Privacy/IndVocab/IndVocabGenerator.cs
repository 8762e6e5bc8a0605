using NoirCode.Core.Util;

namespace NoirCode.Privacy.IndVocab;

/// <summary>What a generation did, for the key's metadata and the benchmarks.</summary>
public sealed record IndVocabStats(
    int VocabSize, int Dimension, double Epsilon, double KeepRate, double MeanL1,
    double Theorem1MinEpsilon, TimeSpan Elapsed)
{
    /// <summary>The true ε of the table: the sum over features (composition) of each column's exact worst
    /// ln-ratio (<see cref="ArrColumn.WorstLogRatio"/>); at most ε wherever every column keeps within ε_i.</summary>
    public double ComposedEpsilon { get; init; }
    /// <summary>The largest single column's worst ln-ratio, against ε_i = ε/m.</summary>
    public double WorstColumnLogRatio { get; init; }

    /// <summary>Whether ε_i = ε/m meets Theorem 1's condition on every feature, so the ε-IND guarantee holds.</summary>
    public bool Theorem1Holds => Epsilon >= Theorem1MinEpsilon;
}

/// <summary>
/// INDVocab: randomises every feature of every token's embedding once, independently, with ARR at ε_i = ε/m.
/// Features are processed in parallel, each from its own CTR stream of one key, so the table is a function
/// of (embedding, ε, key) alone.
/// </summary>
public static class IndVocabGenerator
{
    /// <param name="embedding">[V, m] row-major</param>
    /// <param name="rowOf">where token t's row goes in the result (LTokenizer's π); null: row t</param>
    /// <returns>the randomised table ẽ, [V, m] row-major</returns>
    public static (float[] Table, IndVocabStats Stats) Generate(float[] embedding, int vocabSize, int dimension, double epsilon,
        ReadOnlySpan<byte> key, IProgressSink? progress = null, int? maxParallelism = null, IReadOnlyList<int>? rowOf = null)
    {
        if (rowOf != null && rowOf.Count != vocabSize) throw new ArgumentException("the row mapping must cover the vocabulary");
        if (epsilon <= 0 || double.IsNaN(epsilon)) throw new ArgumentOutOfRangeException(nameof(epsilon), "ε must be positive");
        if ((long)vocabSize * dimension != embedding.LongLength) throw new ArgumentException("the embedding is not [vocab, dimension]");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        progress ??= NullProgress.Instance;
        var table = new float[embedding.LongLength];
        var keyCopy = key.ToArray();
        double epsilonI = epsilon / dimension;
        long kept = 0, done = 0;
        double l1 = 0, minEpsilonI = 0, composed = 0, worstColumn = 0;
        var gate = new object();
        // Each worker keeps one column buffer and one ArrColumn for all its features: memory stays at the two tables.
        Parallel.For(0, dimension, new ParallelOptions { MaxDegreeOfParallelism = maxParallelism ?? Environment.ProcessorCount },
            () => (Kept: 0L, L1: 0.0, MinEps: 0.0, Composed: 0.0, WorstColumn: 0.0, Column: new double[vocabSize], Arr: (ArrColumn?)null), (i, _, local) =>
        {
            var column = local.Column;
            for (int t = 0; t < vocabSize; t++) column[t] = embedding[(long)t * dimension + i];
            if (local.Arr == null) local.Arr = new ArrColumn(column, epsilonI, dimension);
            else local.Arr.Load(column);
            var arr = local.Arr;
            using var rng = new CtrRandom(keyCopy, (ulong)i);
            for (int t = 0; t < vocabSize; t++)
            {
                int source = arr.Sample(t, rng);
                float value = (float)column[source];
                table[(long)(rowOf?[t] ?? t) * dimension + i] = value;
                if (source == t) local.Kept++;
                local.L1 += Math.Abs(value - column[t]);
            }
            local.MinEps = Math.Max(local.MinEps, arr.Theorem1MinEpsilonPerFeature());
            double columnLoss = arr.WorstLogRatio();
            local.Composed += columnLoss;
            local.WorstColumn = Math.Max(local.WorstColumn, columnLoss);
            long n = Interlocked.Increment(ref done);
            if (n % 16 == 0 || n == dimension) lock (gate) progress.Report("INDVocab features", n, dimension);
            return local;
        }, local => { lock (gate) { kept += local.Kept; l1 += local.L1; minEpsilonI = Math.Max(minEpsilonI, local.MinEps); composed += local.Composed; worstColumn = Math.Max(worstColumn, local.WorstColumn); } });
        progress.Done("INDVocab features");
        var stats = new IndVocabStats(vocabSize, dimension, epsilon, (double)kept / embedding.LongLength, l1 / vocabSize,
            minEpsilonI * dimension, clock.Elapsed)
        { ComposedEpsilon = composed, WorstColumnLogRatio = worstColumn };
        return (table, stats);
    }
}
