using NoirCode.Core.Util;

namespace NoirCode.Attack.Decipherment;

/// <summary>The naming being searched, with each distinct trigram window's log-probability cached.</summary>
internal sealed class NamingState
{
    readonly CipherStream _stream;
    readonly TrigramWindows _windows;
    readonly KneserNeyTrigram _lm;
    readonly int _homophones;
    public int[] Naming { get; }
    readonly List<int>[] _owners;  // token → symbols named with it (at most the homophone count)
    readonly double[] _logP;       // per window
    readonly int[] _stamp;
    readonly double[] _trial;
    readonly List<int> _touched = new();
    int _epoch;
    // A symbol's rename delta depends only on the names in its windows: it is kept, with the symbol's version, until
    // one of those names changes (most symbols' neighbourhoods stay put through a sweep, and the k homophones of a
    // token propose the same swaps, so most deltas are asked for again unchanged).
    readonly int[] _version;       // per symbol: stamped whenever a name in one of its windows changes
    int _clock;
    readonly Dictionary<long, (double Delta, int Version)> _renames = new();
    // Per symbol: −Σ count × log P over its windows. A rename can raise a window's log-probability to 0 at most,
    // so a partial sum plus what is left of this bounds the rename's gain, and a hopeless rename (a frequent
    // symbol swapped away from its token) is dropped after a few of its windows.
    readonly double[] _nll;

    public NamingState(CipherStream stream, KneserNeyTrigram lm, int[] naming, int homophones)
    {
        _stream = stream; _lm = lm; Naming = naming; _homophones = homophones;
        _windows = new TrigramWindows(stream);
        _owners = Enumerable.Range(0, lm.VocabSize).Select(_ => new List<int>()).ToArray();
        for (int s = 0; s < naming.Length; s++) if (naming[s] >= 0) _owners[naming[s]].Add(s);
        _logP = new double[_windows.Length];
        _stamp = new int[_windows.Length];
        _trial = new double[_windows.Length];
        for (int t = 0; t < _windows.Length; t++) _logP[t] = LogP(t);
        _version = new int[stream.SymbolCount];
        _nll = new double[stream.SymbolCount];
        for (int t = 0; t < _windows.Length; t++) ForSymbolsOf(t, (sym, w) => _nll[sym] -= _windows.Count[w] * _logP[w]);
    }

    /// <summary>Each symbol of a window once (a symbol twice in it, u = w, once).</summary>
    void ForSymbolsOf(int w, Action<int, int> visit)
    {
        int u = _windows.U[w], v = _windows.V[w], x = _windows.W[w];
        if (u != _windows.Bos) visit(u, w);
        if (v != _windows.Bos && v != u) visit(v, w);
        if (x != u && x != v) visit(x, w);
    }

    int Name(int symbol) => symbol == _windows.Bos ? _lm.Bos : Naming[symbol];

    /// <summary>Model look-ups so far (the sweep's cost, reported with it).</summary>
    public long Lookups;
    public long JointLookups;
    public long CacheHits;

    double LogP(int window)
    {
        Lookups++;
        return _lm.LogTrigram(Name(_windows.U[window]), Name(_windows.V[window]), Name(_windows.W[window]));
    }

    public double Total()
    {
        double total = 0;
        for (int t = 0; t < _windows.Length; t++) total += _windows.Count[t] * _logP[t];
        return total;
    }

    /// <summary>The windows of symbol <paramref name="s"/> not touched yet in this trial.</summary>
    void Touch(int s)
    {
        if (s < 0) return;
        foreach (int t in _windows.OfSymbol[s])
            if (_stamp[t] != _epoch) { _stamp[t] = _epoch; _touched.Add(t); }
    }

    /// <summary>The exact change of the stream's log-likelihood if symbol a took token t, swapping names with
    /// symbol b (one of t's symbols, when t has no room left) or not (b = -1).</summary>
    /// <param name="floor">when not kept: once the change cannot exceed this (the bound of <see cref="_nll"/>),
    /// stop and return some value no greater than it</param>
    double Delta(int a, int t, int b, bool keep, double floor = double.NegativeInfinity)
    {
        int old = Naming[a];
        _epoch++; _touched.Clear();
        Touch(a); Touch(b);
        Naming[a] = t;
        if (b >= 0) Naming[b] = old;
        double delta = 0, left = 0;
        if (!keep && floor > double.NegativeInfinity) foreach (int w in _touched) left -= _windows.Count[w] * _logP[w];
        double margin = 1e-6 * (1 + left);
        if (!keep) JointLookups -= Lookups;
        foreach (int w in _touched)
        {
            _trial[w] = LogP(w);
            delta += _windows.Count[w] * (_trial[w] - _logP[w]);
            if (keep || floor == double.NegativeInfinity) continue;
            left += _windows.Count[w] * _logP[w];
            if (delta + Math.Max(0, left) < floor - margin) { delta = Math.Min(delta, floor - margin); break; }
        }
        if (!keep) JointLookups += Lookups;
        if (keep)
        {
            foreach (int w in _touched)
            {
                double gain = _windows.Count[w] * (_trial[w] - _logP[w]);
                ForSymbolsOf(w, (sym, _) => _nll[sym] -= gain);
                _logP[w] = _trial[w];
            }
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

    /// <summary>The change if symbol <paramref name="s"/> alone took token <paramref name="name"/> (kept until a name
    /// in its windows changes), or, once it cannot exceed <paramref name="floor"/>, some value no greater than it.</summary>
    double RenameDelta(int s, int name, double floor)
    {
        long key = (long)s * _lm.VocabSize + name;
        if (_renames.TryGetValue(key, out var kept) && kept.Version == _version[s]) { CacheHits++; return kept.Delta; }
        if (_renames.Count >= 50_000_000) _renames.Clear(); // a bound on memory (about 2 GB), never reached at 10^6 tokens of k = 1
        int old = Naming[s];
        Naming[s] = name;
        double delta = 0, left = _nll[s], margin = 1e-6 * (1 + Math.Abs(left));
        bool dropped = false;
        foreach (int w in _windows.OfSymbol[s])
        {
            delta += _windows.Count[w] * (LogP(w) - _logP[w]);
            left += _windows.Count[w] * _logP[w];
            if (delta + Math.Max(0, left) < floor - margin) { dropped = true; break; }
        }
        Naming[s] = old;
        if (!dropped) _renames[key] = (delta, _version[s]);
        return dropped ? Math.Min(delta, floor - margin) : delta;
    }

    /// <summary>Whether some window holds both symbols (then a swap of the two is not the sum of their renames).</summary>
    bool ShareAWindow(int a, int b)
    {
        var (fewer, other) = _windows.OfSymbol[a].Length <= _windows.OfSymbol[b].Length ? (a, b) : (b, a);
        foreach (int w in _windows.OfSymbol[fewer]) if (_windows.Contains(w, other)) return true;
        return false;
    }

    /// <summary>Applies a move and marks every symbol that shares a window with a renamed one as changed.</summary>
    void Apply(int a, int t, int b)
    {
        Delta(a, t, b, keep: true);
        _clock++;
        foreach (int s in b >= 0 ? new[] { a, b } : new[] { a })
            foreach (int w in _windows.OfSymbol[s])
            {
                _version[_windows.W[w]] = _clock;
                if (_windows.U[w] != _windows.Bos) _version[_windows.U[w]] = _clock;
                if (_windows.V[w] != _windows.Bos) _version[_windows.V[w]] = _clock;
            }
    }

    public int Sweep(int[][] proposals, IProgressSink progress, int sweep)
    {
        var order = Enumerable.Range(0, Naming.Length).Where(s => _stream.Occurrences[s].Length > 0)
            .OrderByDescending(s => _stream.Occurrences[s].Length).ToArray();
        int changed = 0;
        for (int i = 0; i < order.Length; i++)
        {
            int a = order[i], old = Naming[a];
            double best = 1e-9;
            (int Token, int Partner) bestMove = (-1, -1);
            foreach (int t in proposals[a])
            {
                if (t == old) continue;
                // Room left: a rename.
                if (_owners[t].Count < _homophones)
                {
                    double d = RenameDelta(a, t, best);
                    if (d > best) { best = d; bestMove = (t, -1); }
                    continue;
                }
                // Otherwise a swap with each of the token's symbols in turn. Symbols that share no window change
                // disjoint terms, so the swap is a's rename (scored once for all k partners) plus b's.
                double alone = old >= 0 ? RenameDelta(a, t, double.NegativeInfinity) : double.NaN;
                foreach (int b in _owners[t])
                {
                    double d = old >= 0 && !ShareAWindow(a, b) ? alone + RenameDelta(b, old, best - alone) : Delta(a, t, b, keep: false, floor: best);
                    if (d > best) { best = d; bestMove = (t, b); }
                }
            }
            if (bestMove.Token >= 0) { Apply(a, bestMove.Token, bestMove.Partner); changed++; }
            if (i % 500 == 0) progress.Report($"decipher sweep {sweep + 1}", i, order.Length, $"{changed} renamed");
        }
        return changed;
    }
}
