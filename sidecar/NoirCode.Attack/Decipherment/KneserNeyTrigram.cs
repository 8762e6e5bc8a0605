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
    readonly Dictionary<long, int> _trigram = new();          // c(u v w)
    readonly Dictionary<long, (int Count, int Types)> _context2 = new(); // c(u v ·), N1+(u v ·)
    readonly Dictionary<long, int> _continuation2 = new();    // N1+(· v w)
    readonly (int Sum, int Types)[] _context1;                // Σ_w N1+(· v w), N1+(v ·) over continuation pairs
    readonly double[] _unigram;                               // P_KN(w), continuation counts: the lower order of the bigram level
    readonly Dictionary<long, int> _bigram = new();           // c(v w)
    readonly (int Count, int Types)[] _history;               // c(v ·), N1+(v ·)
    readonly double[] _frequency;                             // c(w) / N, smoothed
    public long Tokens { get; }

    public KneserNeyTrigram(IEnumerable<int[]> documents, int vocabSize)
    {
        VocabSize = vocabSize;
        _base = vocabSize + 1;
        long tokens = 0;
        foreach (var doc in documents)
        {
            int u = Bos, v = Bos;
            foreach (int w in doc)
            {
                long key = Key(u, v, w);
                _trigram[key] = _trigram.GetValueOrDefault(key) + 1;
                u = v; v = w; tokens++;
            }
        }
        Tokens = tokens;
        _history = new (int, int)[vocabSize + 1];
        var counts = new long[vocabSize];
        foreach (var (key, count) in _trigram)
        {
            long vw = key % (_base * _base);
            int seen = _bigram.GetValueOrDefault(vw);
            if (seen == 0) { int v = (int)(vw / _base); _history[v].Types++; }
            _bigram[vw] = seen + count;
            _history[(int)(vw / _base)].Count += count;
            counts[(int)(vw % _base)] += count;
        }
        _frequency = counts.Select(c => (1 - UnseenMass) * (tokens == 0 ? 0 : (double)c / tokens) + UnseenMass / vocabSize).ToArray();
        var left1 = new int[vocabSize]; // N1+(· w)
        foreach (var (key, count) in _trigram)
        {
            long uv = key / _base;
            var c = _context2.GetValueOrDefault(uv);
            _context2[uv] = (c.Count + count, c.Types + 1);
            long vw = key % (_base * _base);
            int seen = _continuation2.GetValueOrDefault(vw);
            _continuation2[vw] = seen + 1;
        }
        _context1 = new (int, int)[vocabSize + 1];
        foreach (var (vw, count) in _continuation2)
        {
            int v = (int)(vw / _base), w = (int)(vw % _base);
            _context1[v] = (_context1[v].Sum + count, _context1[v].Types + 1);
            left1[w]++;
        }
        long total = left1.Sum(x => (long)x);
        _unigram = new double[vocabSize];
        for (int w = 0; w < vocabSize; w++)
            _unigram[w] = (1 - UnseenMass) * (total == 0 ? 0 : (double)left1[w] / total) + UnseenMass / vocabSize;
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
        int c = _trigram.GetValueOrDefault(Key(u, v, w));
        return (Math.Max(c - Discount, 0) + Discount * ctx.Types * LowerBigram(v, w)) / ctx.Count;
    }

    public double LogTrigram(int u, int v, int w) => Math.Log(Trigram(u, v, w));
}
