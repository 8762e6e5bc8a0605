using NoirCode.Core.Util;

namespace NoirCode.Attack.Decipherment;

/// <summary>
/// Names the symbols of a substitution cipher over a large vocabulary (1:1, or homophonic: k symbols per token, one
/// picked per occurrence) with a language model of public code,
/// as large-vocabulary decipherment does (Nuhn, Schamper &amp; Ney 2013: frequency seeding, then search under an
/// n-gram model):
/// <list type="number">
/// <item>seed: symbols most frequent first, each takes the token that best explains its count and its
/// contexts among the symbols already named (<see cref="FirstNaming"/>);</item>
/// <item>propose: for every symbol, score every token against the current names of its left and right
/// neighbours under the bigram model (a dense bigram row added per distinct pair of neighbouring symbols);</item>
/// <item>decide: for each symbol, most frequent first, try its best proposals as the exact change of the whole
/// stream's trigram log-likelihood (a swap when another symbol holds the token) and keep the best gain;</item>
/// <item>repeat until a sweep changes almost nothing.</item>
/// </list>
/// The decisions are exact; what makes them cheap is bookkeeping that changes no result: scores over distinct
/// trigram windows (<see cref="TrigramWindows"/>), deltas kept until a name they read changes, candidates dropped
/// once a bound says they cannot win, and flat count tables in the model (<see cref="FrozenLongMap{T}"/>).
/// Code structure (newlines, indentation, keywords, brackets, <c>def</c>/<c>self</c>) enters through the model:
/// it is what makes those tokens predictable, and they are the anchors the rest is read from.
/// </summary>
public sealed class SubstitutionDecipherer
{
    /// <param name="Homophones">symbols a token may be named by: 1 for a substitution, k for a homophonic cipher that
    /// picks one of k symbols per occurrence uniformly (the attacker knows the mechanism, so it knows k)</param>
    public sealed record Settings(int MaxSweeps = 10, int Proposals = 8, double StopFraction = 0.002, int Homophones = 1);

    readonly KneserNeyTrigram _lm;
    readonly Settings _s;
    readonly IProgressSink _progress;
    (CipherStream? Stream, (int Prev, int Next, int Count)[] Pairs) _pairs = (null, Array.Empty<(int, int, int)>()); // of the last stream

    public SubstitutionDecipherer(KneserNeyTrigram lm, Settings settings, IProgressSink progress)
    {
        _lm = lm; _s = settings; _progress = progress;
    }

    /// <summary>Per sweep: symbols renamed and the stream's trigram log-likelihood after it.</summary>
    public List<(int Changed, double LogLikelihood)> Trace { get; } = new();

    /// <summary>The stream's trigram log-likelihood under the last naming returned: what the attacker compares namings by.</summary>
    public double LastLogLikelihood => Trace.Count == 0 ? double.NaN : Trace[^1].LogLikelihood;

    /// <param name="start">where to start the search instead of the frequency seeding: a naming the attacker already
    /// has (<see cref="Continued"/>); null: the first naming of <see cref="FirstNaming"/></param>
    /// <returns>the token named for each symbol (-1 for a symbol that never occurs)</returns>
    public int[] Solve(CipherStream stream, int[]? start = null)
    {
        Trace.Clear();
        int v = _lm.VocabSize;
        var clock0 = System.Diagnostics.Stopwatch.StartNew();
        var first = start is null ? FirstNaming(stream, v) : (int[])start.Clone();
        if (first.Length != stream.SymbolCount) throw new ArgumentException($"a start naming names {first.Length} symbols, the stream has {stream.SymbolCount}");
        for (int s = 0; s < first.Length; s++)
            if (stream.Occurrences[s].Length > 0 && (first[s] < 0 || first[s] >= v))
                throw new ArgumentException($"a start naming leaves symbol {s}, which occurs, without a token of the vocabulary");
        _progress.Report("deciphering: first naming", 1, 1, $"{clock0.Elapsed.TotalSeconds:F1} s");
        var state = new NamingState(stream, _lm, first, _s.Homophones);
        Trace.Add((0, state.Total()));
        int present = Math.Max(1, stream.Occurrences.Count(o => o.Length > 0));
        for (int sweep = 0; sweep < _s.MaxSweeps; sweep++)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var proposals = Propose(stream, state.Naming);
            double proposing = clock.Elapsed.TotalSeconds;
            int changed = state.Sweep(proposals, _progress, sweep);
            double total = state.Total(); // a pass over every window: once per sweep
            Trace.Add((changed, total));
            _progress.Report("deciphering: swaps", sweep + 1, _s.MaxSweeps,
                $"{changed} renamed, log-likelihood {total:F0} (proposals {proposing:F1} s, swaps {clock.Elapsed.TotalSeconds - proposing:F1} s, " +
                $"{state.Lookups / 1e6:F1} M look-ups, {state.JointLookups / 1e6:F1} M in joint swaps, {state.CacheHits / 1e6:F2} M kept renames)");
            state.Lookups = state.JointLookups = state.CacheHits = 0;
            if (changed <= _s.StopFraction * present) break;
        }
        _progress.Done("deciphering");
        return state.Naming;
    }

    /// <summary>
    /// The first naming, one symbol at a time, most frequent first (Nuhn et al.'s order): each symbol takes the
    /// unused token with the best score, (a) how well the token's public frequency explains the symbol's count
    /// (Poisson) plus (b) the pointwise mutual information, under the bigram model, of the token with the names of
    /// the symbol's already named neighbours. Each name is added to its neighbours' scores as it is decided.
    /// (Tried and dropped: naming the widest margin first, which let confident mistakes lead; whole-stream
    /// re-namings between swap sweeps, which never raised the trigram likelihood. Starting from the naming of a
    /// shorter prefix loses at small volumes, whose early mistakes hold the search back, and wins at large ones:
    /// the volume curve runs both and keeps the likelier, <see cref="Volume.PrefixDecipherment"/>.)
    /// </summary>
    int[] FirstNaming(CipherStream stream, int vocab)
    {
        var table = BigramTable.Of(_lm);
        var logFrequency = table.LogFrequency;
        int symbols = stream.SymbolCount;
        long n = stream.Length;
        // Poisson log-likelihood of each symbol's count under each token's public rate, shared by its k homophones
        // (log n! dropped); plus, for a symbol seen right after itself, that many times PMI(w, w).
        double perSymbol = Math.Log(n) - Math.Log(_s.Homophones);
        float rate = (float)Math.Exp(perSymbol);
        var expected = logFrequency.Select(f => rate * MathF.Exp(f)).ToArray();
        var shifted = logFrequency.Select(f => (float)(f + perSymbol)).ToArray();
        var selfPmi = Enumerable.Range(0, vocab).Select(t => table.Previous(t)[t] - logFrequency[t]).ToArray();
        var neighbours = NeighbourCounts(stream);
        var scores = new float[(long)symbols * vocab];
        for (int a = 0; a < symbols; a++)
        {
            var row = Row(scores, a, vocab);
            float count = stream.Occurrences[a].Length, self = neighbours[a].Left.GetValueOrDefault(a);
            for (int t = 0; t < vocab; t++) row[t] = count * shifted[t] - expected[t] + self * selfPmi[t];
        }
        var used = new bool[vocab];
        var namedBy = new int[vocab];
        var naming = Enumerable.Repeat(-1, symbols).ToArray();
        var order = Enumerable.Range(0, symbols).Where(a => stream.Occurrences[a].Length > 0)
            .OrderByDescending(a => stream.Occurrences[a].Length).ThenBy(a => a).ToArray();
        for (int i = 0; i < order.Length; i++)
        {
            int a = order[i];
            var row = Row(scores, a, vocab);
            int best = -1;
            for (int t = 0; t < vocab; t++) if (!used[t] && (best < 0 || row[t] > row[best])) best = t;
            // More symbols than tokens have room (a clustering that split tokens further than the mechanism does):
            // the best token regardless of room, since every symbol stands for some token.
            if (best < 0) best = BigramTable.Top(row, 1)[0];
            naming[a] = best;
            if (++namedBy[best] >= _s.Homophones) used[best] = true;
            // a → b: b's score for token w gains n · PMI(best, w); b → a: gains n · PMI(w, best).
            var (left, right) = neighbours[a];
            foreach (var (b, count) in right)
                if (b != a && naming[b] < 0) BigramTable.AddScaled(Row(scores, b, vocab), table.Previous(best), count, logFrequency);
            foreach (var (b, count) in left)
                if (b != a && naming[b] < 0) BigramTable.AddScaled(Row(scores, b, vocab), table.Next(best), count, logFrequency[best]);
            if (i % 200 == 0) _progress.Report("naming symbols", i, order.Length);
        }
        _progress.Done("naming symbols");
        return naming;
    }

    /// <summary>
    /// A start for a longer stream from the naming the attacker found on a shorter prefix of it (symbols keep their
    /// ids as the stream grows): each symbol seen before keeps its name; each new one, most frequent first, takes its
    /// name in <paramref name="fallback"/> (e.g. a fresh solve of the longer stream) while that token has room, else
    /// the most frequent public token that has. A token never names more than k symbols unless the prefix's naming did.
    /// </summary>
    public int[] Continued(CipherStream stream, int[] previous, int[]? fallback)
    {
        int v = _lm.VocabSize;
        var naming = Enumerable.Repeat(-1, stream.SymbolCount).ToArray();
        var named = new int[v];
        for (int s = 0; s < Math.Min(previous.Length, naming.Length); s++)
            if (previous[s] >= 0 && stream.Occurrences[s].Length > 0) { naming[s] = previous[s]; named[previous[s]]++; }
        var logFrequency = BigramTable.Of(_lm).LogFrequency;
        var byFrequency = Enumerable.Range(0, v).OrderByDescending(t => logFrequency[t]).ToArray();
        int next = 0;
        foreach (int s in Enumerable.Range(0, naming.Length).Where(s => naming[s] < 0 && stream.Occurrences[s].Length > 0)
                     .OrderByDescending(s => stream.Occurrences[s].Length))
        {
            int t = fallback is not null && s < fallback.Length ? fallback[s] : -1;
            if (t < 0 || named[t] >= _s.Homophones)
            {
                while (next < v && named[byFrequency[next]] >= _s.Homophones) next++;
                t = next < v ? byFrequency[next] : byFrequency[0]; // more symbols than room: some token, as FirstNaming does
            }
            naming[s] = t;
            named[t]++;
        }
        return naming;
    }

    static Span<float> Row(float[] matrix, int row, int width) => matrix.AsSpan((int)((long)row * width), width);

    /// <summary>Per symbol: counts of the symbols just before it and just after it.</summary>
    static (Dictionary<int, int> Left, Dictionary<int, int> Right)[] NeighbourCounts(CipherStream stream)
    {
        var result = Enumerable.Range(0, stream.SymbolCount).Select(_ => (new Dictionary<int, int>(), new Dictionary<int, int>())).ToArray();
        for (int q = 1; q < stream.Length; q++)
        {
            if (stream.SequenceStart[q] == q) continue;
            int a = stream.Symbols[q - 1], b = stream.Symbols[q];
            result[b].Item1[a] = result[b].Item1.GetValueOrDefault(a) + 1;
            result[a].Item2[b] = result[a].Item2.GetValueOrDefault(b) + 1;
        }
        return result;
    }

    /// <summary>For each symbol, the tokens that best fit its neighbours' current names under the bigram model.</summary>
    int[][] Propose(CipherStream stream, int[] naming)
    {
        int v = _lm.VocabSize;
        var scores = ContextScores(stream, naming);
        return Enumerable.Range(0, stream.SymbolCount).Select(s => BigramTable.Top(Row(scores, s, v), _s.Proposals)).ToArray();
    }

    /// <summary>[symbols × V]: the bigram log-likelihood of each symbol's neighbourhood if it were each token, the
    /// other symbols keeping their names.</summary>
    float[] ContextScores(CipherStream stream, int[] naming)
    {
        int v = _lm.VocabSize;
        var table = BigramTable.Of(_lm);
        var scores = new float[(long)stream.SymbolCount * v];
        foreach (var (prev, next, count) in Pairs(stream))
        {
            // The next symbol as token j: log P(j | name(prev)); the previous symbol as j: log P(name(next) | j).
            BigramTable.AddScaled(Row(scores, next, v), table.Previous(Math.Max(0, naming[prev])), count);
            BigramTable.AddScaled(Row(scores, prev, v), table.Next(Math.Max(0, naming[next])), count);
        }
        return scores;
    }

    /// <summary>Distinct (previous, next) symbol pairs of the stream with their counts (the same every sweep).</summary>
    (int Prev, int Next, int Count)[] Pairs(CipherStream stream)
    {
        if (_pairs.Stream == stream) return _pairs.Pairs;
        var pairs = new Dictionary<long, int>();
        for (int q = 1; q < stream.Length; q++)
            if (stream.SequenceStart[q] < q) { long key = (long)stream.Symbols[q - 1] * stream.SymbolCount + stream.Symbols[q]; pairs[key] = pairs.GetValueOrDefault(key) + 1; }
        var result = pairs.Select(kv => ((int)(kv.Key / stream.SymbolCount), (int)(kv.Key % stream.SymbolCount), kv.Value)).ToArray();
        _pairs = (stream, result);
        return result;
    }

}
