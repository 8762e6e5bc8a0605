using TorchSharp;
using NoirCode.Core.Util;
using static TorchSharp.torch;

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
/// neighbours under the bigram model (one batched product over all symbol pairs of the stream);</item>
/// <item>decide: for each symbol, most frequent first, try its best proposals as the exact change of the whole
/// stream's trigram log-likelihood (a swap when another symbol holds the token) and keep the best gain;</item>
/// <item>repeat until a sweep changes almost nothing.</item>
/// </list>
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
    Tensor? _logBigram; // [V, V] log P(w | v) over the whole vocabulary (cached: it depends only on the model)

    public SubstitutionDecipherer(KneserNeyTrigram lm, Settings settings, IProgressSink progress)
    {
        _lm = lm; _s = settings; _progress = progress;
    }

    /// <summary>Per sweep: symbols renamed and the stream's trigram log-likelihood after it.</summary>
    public List<(int Changed, double LogLikelihood)> Trace { get; } = new();

    /// <returns>the token named for each symbol (-1 for a symbol that never occurs)</returns>
    public int[] Solve(CipherStream stream)
    {
        Trace.Clear();
        int v = _lm.VocabSize;
        var state = new State(stream, _lm, FirstNaming(stream, v), _s.Homophones);
        Trace.Add((0, state.Total()));
        int present = Math.Max(1, stream.Occurrences.Count(o => o.Length > 0));
        for (int sweep = 0; sweep < _s.MaxSweeps; sweep++)
        {
            int changed = state.Sweep(Propose(stream, state.Naming), _progress, sweep);
            Trace.Add((changed, state.Total()));
            _progress.Report("deciphering: swaps", sweep + 1, _s.MaxSweeps, $"{changed} renamed, log-likelihood {state.Total():F0}");
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
    /// re-namings between swap sweeps, which never raised the trigram likelihood; starting from the naming of a
    /// shorter prefix, whose early mistakes held the search back.)
    /// </summary>
    int[] FirstNaming(CipherStream stream, int vocab)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        _logBigram ??= BuildLogBigram().DetachFromDisposeScope();
        var logFrequency = tensor(Enumerable.Range(0, vocab).Select(t => (float)Math.Log(_lm.Frequency(t))).ToArray());
        // PMI(v, w) = log P(w | v) − log P(w): how much more likely w is right after v than anywhere.
        var pmi = _logBigram - logFrequency.unsqueeze(0);
        var pmiT = pmi.t().contiguous();
        int symbols = stream.SymbolCount;
        long n = stream.Length;
        var counts = tensor(stream.Occurrences.Select(o => (float)o.Length).ToArray()).unsqueeze(1);
        // Poisson log-likelihood of each symbol's count under each token's public rate, shared by its k homophones
        // (log n! dropped).
        double perSymbol = Math.Log(n) - Math.Log(_s.Homophones);
        var scores = counts * (logFrequency + perSymbol).unsqueeze(0) - Math.Exp(perSymbol) * logFrequency.exp().unsqueeze(0);
        var neighbours = NeighbourCounts(stream);
        var selfCounts = tensor(Enumerable.Range(0, symbols).Select(a => (float)neighbours[a].Left.GetValueOrDefault(a)).ToArray()).unsqueeze(1);
        scores.add_(selfCounts * pmi.diagonal().unsqueeze(0));
        var used = zeros(vocab, dtype: ScalarType.Bool);
        var namedBy = new int[vocab];
        var negInf = full(vocab, float.NegativeInfinity);
        var naming = Enumerable.Repeat(-1, symbols).ToArray();
        var order = Enumerable.Range(0, symbols).Where(a => stream.Occurrences[a].Length > 0)
            .OrderByDescending(a => stream.Occurrences[a].Length).ThenBy(a => a).ToArray();
        using var one = 1.ToScalar(); // explicit and kept alive through the native calls (see RmsNorm)
        for (int i = 0; i < order.Length; i++)
        {
            using var step = NewDisposeScope();
            int a = order[i];
            var row = where(used, negInf, scores[a]);
            int best = (int)row.argmax().item<long>();
            // More symbols than tokens have room (a clustering that split tokens further than the mechanism does):
            // the best token regardless of room, since every symbol stands for some token.
            if (float.IsNegativeInfinity(row[best].item<float>())) best = (int)scores[a].argmax().item<long>();
            naming[a] = best;
            if (++namedBy[best] >= _s.Homophones) used[best] = true;
            // a → b: b's score for token w gains n · PMI(best, w); b → a: gains n · PMI(w, best).
            var (left, right) = neighbours[a];
            foreach (var (set, table) in new[] { (right, pmi), (left, pmiT) })
            {
                var open = set.Where(kv => kv.Key != a && naming[kv.Key] < 0).ToArray();
                if (open.Length == 0) continue;
                var idx = tensor(open.Select(kv => (long)kv.Key).ToArray());
                var w = tensor(open.Select(kv => (float)kv.Value).ToArray()).unsqueeze(1);
                scores.index_add_(0, idx, w * table[best].unsqueeze(0), one);
            }
            if (i % 200 == 0) _progress.Report("naming symbols", i, order.Length);
        }
        _progress.Done("naming symbols");
        return naming;
    }

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
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var scores = ContextScores(stream, naming);
        int v = _lm.VocabSize;
        int k = Math.Min(_s.Proposals, v);
        var top = scores.topk(k, dim: 1).indexes.data<long>().ToArray();
        return Enumerable.Range(0, stream.SymbolCount).Select(s => top.AsSpan(s * k, k).ToArray().Select(t => (int)t).ToArray()).ToArray();
    }

    /// <summary>[symbols, V]: the bigram log-likelihood of each symbol's neighbourhood if it were each token, the
    /// other symbols keeping their names.</summary>
    Tensor ContextScores(CipherStream stream, int[] naming)
    {
        int v = _lm.VocabSize;
        _logBigram ??= BuildLogBigram().DetachFromDisposeScope();
        // Distinct (previous, next) symbol pairs with their counts.
        var pairs = new Dictionary<long, int>();
        for (int q = 1; q < stream.Length; q++)
            if (stream.SequenceStart[q] < q) { long key = (long)stream.Symbols[q - 1] * stream.SymbolCount + stream.Symbols[q]; pairs[key] = pairs.GetValueOrDefault(key) + 1; }
        var prev = pairs.Keys.Select(k => (long)(k / stream.SymbolCount)).ToArray();
        var next = pairs.Keys.Select(k => (long)(k % stream.SymbolCount)).ToArray();
        var count = pairs.Values.Select(c => (float)c).ToArray();
        var scores = zeros(stream.SymbolCount, v);
        var transposed = _logBigram.t();
        const int chunk = 2048;
        using var one = 1.ToScalar(); // explicit and kept alive through the native calls (see RmsNorm)
        for (int start = 0; start < prev.Length; start += chunk)
        {
            using var step = NewDisposeScope();
            int len = Math.Min(chunk, prev.Length - start);
            var p = tensor(prev.AsSpan(start, len).ToArray());
            var n = tensor(next.AsSpan(start, len).ToArray());
            var c = tensor(count.AsSpan(start, len).ToArray()).unsqueeze(1);
            var prevNames = tensor(prev.AsSpan(start, len).ToArray().Select(s => (long)Math.Max(0, naming[s])).ToArray());
            var nextNames = tensor(next.AsSpan(start, len).ToArray().Select(s => (long)Math.Max(0, naming[s])).ToArray());
            // The next symbol as token j: log P(j | name(prev)); the previous symbol as j: log P(name(next) | j).
            scores.index_add_(0, n, _logBigram.index_select(0, prevNames) * c, one);
            scores.index_add_(0, p, transposed.index_select(0, nextNames) * c, one);
        }
        return scores;
    }

    Tensor BuildLogBigram()
    {
        int v = _lm.VocabSize;
        var data = new float[(long)v * v];
        Parallel.For(0, v, a =>
        {
            for (int b = 0; b < v; b++) data[(long)a * v + b] = (float)Math.Log(_lm.Bigram(a, b));
        });
        return tensor(data, new long[] { v, v });
    }

    /// <summary>The naming being searched, with each position's current trigram log-probability cached.</summary>
    sealed class State
    {
        readonly CipherStream _stream;
        readonly KneserNeyTrigram _lm;
        readonly int _homophones;
        public int[] Naming { get; }
        readonly List<int>[] _owners;  // token → symbols named with it (at most the homophone count)
        readonly double[] _logP;       // per position
        readonly int[] _stamp;
        readonly double[] _trial;
        readonly List<int> _touched = new();
        int _epoch;

        public State(CipherStream stream, KneserNeyTrigram lm, int[] naming, int homophones)
        {
            _stream = stream; _lm = lm; Naming = naming; _homophones = homophones;
            _owners = Enumerable.Range(0, lm.VocabSize).Select(_ => new List<int>()).ToArray();
            for (int s = 0; s < naming.Length; s++) if (naming[s] >= 0) _owners[naming[s]].Add(s);
            _logP = new double[stream.Length];
            _stamp = new int[stream.Length];
            _trial = new double[stream.Length];
            for (int q = 0; q < stream.Length; q++) _logP[q] = LogP(q);
        }

        int Name(int q) => Naming[_stream.Symbols[q]];

        double LogP(int q)
        {
            int start = _stream.SequenceStart[q];
            int u = q - 2 >= start ? Name(q - 2) : _lm.Bos, v = q - 1 >= start ? Name(q - 1) : _lm.Bos;
            return _lm.LogTrigram(u, v, Name(q));
        }

        public double Total() => _logP.Sum();

        /// <summary>Positions whose trigram involves symbol <paramref name="s"/> (its own and the next two).</summary>
        void Touch(int s)
        {
            if (s < 0) return;
            foreach (int p in _stream.Occurrences[s])
                for (int q = p; q < Math.Min(p + 3, _stream.Length); q++)
                    if (_stream.SequenceStart[q] == _stream.SequenceStart[p] && _stamp[q] != _epoch) { _stamp[q] = _epoch; _touched.Add(q); }
        }

        /// <summary>The exact change of the stream's log-likelihood if symbol a took token t, swapping names with
        /// symbol b (one of t's symbols, when t has no room left) or not (b = -1).</summary>
        double Delta(int a, int t, int b, bool keep)
        {
            int old = Naming[a];
            _epoch++; _touched.Clear();
            Touch(a); Touch(b);
            Naming[a] = t;
            if (b >= 0) Naming[b] = old;
            double delta = 0;
            foreach (int q in _touched) { _trial[q] = LogP(q); delta += _trial[q] - _logP[q]; }
            if (keep)
            {
                foreach (int q in _touched) _logP[q] = _trial[q];
                if (old >= 0) _owners[old].Remove(a);
                _owners[t].Add(a);
                if (b >= 0) { _owners[t].Remove(b); if (old >= 0) _owners[old].Add(b); }
            }
            else
            {
                Naming[a] = old;
                if (b >= 0) Naming[b] = t;
            }
            return delta;
        }

        public int Sweep(int[][] proposals, IProgressSink progress, int sweep)
        {
            var order = Enumerable.Range(0, Naming.Length).Where(s => _stream.Occurrences[s].Length > 0)
                .OrderByDescending(s => _stream.Occurrences[s].Length).ToArray();
            int changed = 0;
            for (int i = 0; i < order.Length; i++)
            {
                int a = order[i];
                double best = 1e-9;
                (int Token, int Partner) bestMove = (-1, -1);
                foreach (int t in proposals[a])
                {
                    if (t == Naming[a]) continue;
                    // Room left: a rename; otherwise a swap with each of the token's symbols in turn.
                    var partners = _owners[t].Count < _homophones ? new List<int> { -1 } : _owners[t].ToList();
                    foreach (int b in partners)
                    {
                        double d = Delta(a, t, b, keep: false);
                        if (d > best) { best = d; bestMove = (t, b); }
                    }
                }
                if (bestMove.Token >= 0) { Delta(a, bestMove.Token, bestMove.Partner, keep: true); changed++; }
                if (i % 500 == 0) progress.Report($"decipher sweep {sweep + 1}", i, order.Length, $"{changed} renamed");
            }
            return changed;
        }
    }
}
