namespace NoirCode.Attack.Decipherment;

/// <summary>
/// Interpolated Kneser–Ney trigram language model over public token ids (Chen &amp; Goodman's formulation with one
/// discount per order): the decipherer's judge of how plausible a naming of the cipher symbols reads as code.
/// Documents start with a beginning-of-sequence context <see cref="Bos"/> (= vocabulary size), so the model knows
/// how files and windows open.
/// </summary>
public sealed class KneserNeyTrigram
{
    const double Discount = 0.75;
    /// <summary>Mass given to tokens never seen in public code (private identifiers), spread evenly.</summary>
    const double UnseenMass = 1e-4;
    public int VocabSize { get; }
    public int Bos => VocabSize;
    readonly long _base;
    // Counted in dictionaries, then frozen into flat tables for the decipherer's billions of look-ups.
    readonly FrozenLongMap<(int Count, double Log)> _trigram; // c(u v w) and log P(w | u v), computed once
    readonly FrozenLongMap<(int Count, int Types)> _context2; // c(u v ·), N1+(u v ·)
    readonly FrozenLongMap<int> _continuation2;               // N1+(· v w)
    readonly (int Sum, int Types)[] _context1;                // Σ_w N1+(· v w), N1+(v ·) over continuation pairs
    readonly double[] _unigram;                               // P_KN(w), continuation counts: the lower order of the bigram level
    readonly FrozenLongMap<int> _bigram;                      // c(v w)
    readonly (int Count, int Types)[] _history;               // c(v ·), N1+(v ·)
    readonly double[] _frequency;                             // c(w) / N, smoothed
    public long Tokens { get; }

    public KneserNeyTrigram(IEnumerable<int[]> documents, int vocabSize)
    {
        VocabSize = vocabSize;
        _base = vocabSize + 1;
        var trigram = new Dictionary<long, int>();
        var context2 = new Dictionary<long, (int Count, int Types)>();
        var continuation2 = new Dictionary<long, int>();
        var bigram = new Dictionary<long, int>();
        long tokens = 0;
        foreach (var doc in documents)
        {
            int u = Bos, v = Bos;
            foreach (int w in doc)
            {
                long key = Key(u, v, w);
                trigram[key] = trigram.GetValueOrDefault(key) + 1;
                u = v; v = w; tokens++;
            }
        }
        Tokens = tokens;
        _history = new (int, int)[vocabSize + 1];
        var counts = new long[vocabSize];
        foreach (var (key, count) in trigram)
        {
            long vw = key % (_base * _base);
            int seen = bigram.GetValueOrDefault(vw);
            if (seen == 0) { int v = (int)(vw / _base); _history[v].Types++; }
            bigram[vw] = seen + count;
            _history[(int)(vw / _base)].Count += count;
            counts[(int)(vw % _base)] += count;
        }
        _frequency = counts.Select(c => (1 - UnseenMass) * (tokens == 0 ? 0 : (double)c / tokens) + UnseenMass / vocabSize).ToArray();
        var left1 = new int[vocabSize]; // N1+(· w)
        foreach (var (key, count) in trigram)
        {
            long uv = key / _base;
            var c = context2.GetValueOrDefault(uv);
            context2[uv] = (c.Count + count, c.Types + 1);
            long vw = key % (_base * _base);
            int seen = continuation2.GetValueOrDefault(vw);
            continuation2[vw] = seen + 1;
        }
        _context1 = new (int, int)[vocabSize + 1];
        foreach (var (vw, count) in continuation2)
        {
            int v = (int)(vw / _base), w = (int)(vw % _base);
            _context1[v] = (_context1[v].Sum + count, _context1[v].Types + 1);
            left1[w]++;
        }
        long total = left1.Sum(x => (long)x);
        _unigram = new double[vocabSize];
        for (int w = 0; w < vocabSize; w++)
            _unigram[w] = (1 - UnseenMass) * (total == 0 ? 0 : (double)left1[w] / total) + UnseenMass / vocabSize;
        _bigram = FrozenLongMap<int>.From(bigram);
        _context2 = FrozenLongMap<(int, int)>.From(context2);
        _continuation2 = FrozenLongMap<int>.From(continuation2);
        // A seen trigram's log-probability, the same expression as Trigram's, so that LogTrigram returns the same bits.
        _trigram = new FrozenLongMap<(int, double)>(trigram.Select(kv =>
        {
            long uv = kv.Key / _base, vw = kv.Key % (_base * _base);
            var ctx = context2[uv];
            double p = (Math.Max(kv.Value - Discount, 0) + Discount * ctx.Types * LowerBigram((int)(vw / _base), (int)(vw % _base))) / ctx.Count;
            return KeyValuePair.Create(kv.Key, (kv.Value, Math.Log(p)));
        }), trigram.Count);
    }

    long Key(int u, int v, int w) => ((long)u * _base + v) * _base + w;

    /// <summary>How often w occurs in public code (a share of all tokens; never zero).</summary>
    public double Frequency(int w) => _frequency[w];

    /// <summary>P(w | v) as a model of its own: absolute discounting on the raw bigram counts, interpolated with the
    /// Kneser–Ney continuation unigram. (The trigram's lower order is <see cref="LowerBigram"/>, which counts
    /// contexts, not occurrences, and is no estimate of P(w | v) on its own.)</summary>
    public double Bigram(int v, int w)
    {
        var (count, types) = _history[v];
        if (count == 0) return _frequency[w];
        int c = _bigram.GetValueOrDefault((long)v * _base + w);
        return (Math.Max(c - Discount, 0) + Discount * types * _unigram[w]) / count;
    }

    /// <summary>The trigram's lower order: Kneser–Ney continuation counts, interpolated with the unigram level.</summary>
    public double LowerBigram(int v, int w)
    {
        var (sum, types) = _context1[v];
        if (sum == 0) return _unigram[w];
        int c = _continuation2.GetValueOrDefault((long)v * _base + w);
        return (Math.Max(c - Discount, 0) + Discount * types * _unigram[w]) / sum;
    }

    /// <summary>P(w | u v), interpolated with the bigram level.</summary>
    public double Trigram(int u, int v, int w)
    {
        if (!_context2.TryGetValue((long)u * _base + v, out var ctx)) return LowerBigram(v, w);
        int c = _trigram.GetValueOrDefault(Key(u, v, w)).Count;
        return (Math.Max(c - Discount, 0) + Discount * ctx.Types * LowerBigram(v, w)) / ctx.Count;
    }

    /// <summary>log P(w | u v), bit for bit <c>Math.Log(Trigram(u, v, w))</c>; a seen trigram is one look-up.</summary>
    public double LogTrigram(int u, int v, int w)
    {
        if (_trigram.TryGetValue(Key(u, v, w), out var seen)) return seen.Log;
        if (!_context2.TryGetValue((long)u * _base + v, out var ctx)) return Math.Log(LowerBigram(v, w));
        return Math.Log((0 + Discount * ctx.Types * LowerBigram(v, w)) / ctx.Count);
    }
}
