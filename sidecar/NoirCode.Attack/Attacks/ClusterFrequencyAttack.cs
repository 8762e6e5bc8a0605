using NoirCode.Attack.Data;
using NoirCode.Core.Util;
using static TorchSharp.torch;

namespace NoirCode.Attack.Attacks;

/// <summary>
/// Frequency analysis of the cross-prompt clusters against public code, at two levels.
/// Token level: the i-th largest cluster is named the i-th most frequent public token.
/// Sequence level: starting from that naming, a substitution-cipher solver swaps names between clusters (and
/// brings in unused public tokens) whenever that raises the likelihood of the observed cluster bigrams under
/// the public bigram model, for a fixed number of proposals: the classic attack on a fixed substitution.
/// </summary>
public sealed class ClusterFrequencyAttack : ICloudAttack
{
    public sealed record Settings(int Iterations = 12, long SolverProposals = 2_000_000, int SolverSweeps = 4, int Seed = 17);

    readonly AttackerKnowledge _k;
    readonly bool _sequence;
    readonly Settings _s;
    readonly IProgressSink _progress;

    public string Name => _sequence ? "cluster-bigram" : "cluster-unigram";
    public string Description => _sequence
        ? "k-means clusters of all encoder outputs, named by a bigram substitution solver against public token-pair statistics"
        : "k-means clusters of all encoder outputs, named by frequency rank against public token frequencies";
    /// <summary>The clusters of the last run (for the purity diagnostic).</summary>
    public EncoderOutputClusters? LastClusters { get; private set; }

    public ClusterFrequencyAttack(AttackerKnowledge k, bool sequenceLevel, Settings s, IProgressSink progress)
    {
        _k = k; _sequence = sequenceLevel; _s = s; _progress = progress;
    }

    /// <summary>Reuses clusters already fitted on the same views (both levels share one clustering).</summary>
    public EncoderOutputClusters? Shared { get; set; }

    public IReadOnlyList<int[]> Reconstruct(IReadOnlyList<Tensor> views)
    {
        long n = views.Sum(v => v.shape[0]);
        var clusters = Shared ?? FitCalibrated(views, n);
        LastClusters = clusters;
        var naming = RankNaming(clusters);
        if (_sequence)
        {
            var solver = new BigramSolver(_k.Statistics, clusters, naming, _s.Seed);
            naming = solver.Solve(_s.SolverProposals, _s.SolverSweeps, _progress);
            LastScore = solver.Scorer;
            LastNaming = naming;
        }
        return clusters.Assignments.Select(seq => seq.Select(c => naming[c]).ToArray()).ToList();
    }

    /// <summary>Scores a naming of the last clusters by the solver's objective (for diagnostics).</summary>
    public Func<int[], double>? LastScore { get; private set; }
    public int[]? LastNaming { get; private set; }

    /// <summary>The calibration of the last run.</summary>
    public ClusterCalibration.Result? Calibration { get; private set; }
    readonly Dictionary<long, ClusterCalibration.Result> _calibrations = new();

    EncoderOutputClusters FitCalibrated(IReadOnlyList<Tensor> views, long n)
    {
        if (!_calibrations.TryGetValue(n, out var calibration))
            _calibrations[n] = calibration = ClusterCalibration.Calibrate(_k, n, _s.Iterations, _s.Seed, _progress);
        Calibration = calibration;
        return EncoderOutputClusters.Fit(views, TokenStatistics.DistinctIn(_k.Corpus.Documents, n), _s.Iterations, _s.Seed, _progress,
            new[] { calibration.Threshold })[0];
    }

    int[] RankNaming(EncoderOutputClusters clusters)
    {
        var byFrequency = _k.Statistics.ByFrequency();
        var naming = new int[clusters.Count];
        var order = Enumerable.Range(0, clusters.Count).OrderByDescending(c => clusters.Sizes[c]).ThenBy(c => c).ToArray();
        for (int r = 0; r < order.Length; r++) naming[order[r]] = byFrequency[Math.Min(r, byFrequency.Length - 1)];
        return naming;
    }

    /// <summary>Greedy hill climbing on Σ_edges n(a,b) · log P(name(b) | name(a)), P interpolated with unigrams.</summary>
    sealed class BigramSolver
    {
        const double Lambda = 0.9;
        readonly TokenStatistics _stats;
        readonly int[] _naming, _candidates;
        readonly bool[] _used;
        readonly (int A, int B, int N)[] _edges;
        readonly int[][] _incident;
        readonly long[] _sizes;
        readonly double[] _unigram;
        readonly Random _rng;
        readonly int[] _stamp;
        int _epoch;

        public BigramSolver(TokenStatistics stats, EncoderOutputClusters clusters, int[] naming, int seed)
        {
            _stats = stats; _naming = (int[])naming.Clone(); _sizes = clusters.Sizes; _rng = new Random(seed);
            var counts = new Dictionary<(int, int), int>();
            foreach (var seq in clusters.Assignments)
                for (int i = 1; i < seq.Length; i++) counts[(seq[i - 1], seq[i])] = counts.GetValueOrDefault((seq[i - 1], seq[i])) + 1;
            _edges = counts.Select(kv => (kv.Key.Item1, kv.Key.Item2, kv.Value)).ToArray();
            var lists = Enumerable.Range(0, clusters.Count).Select(_ => new List<int>()).ToArray();
            for (int e = 0; e < _edges.Length; e++) { lists[_edges[e].A].Add(e); if (_edges[e].B != _edges[e].A) lists[_edges[e].B].Add(e); }
            _incident = lists.Select(l => l.ToArray()).ToArray();
            _stamp = new int[_edges.Length];
            _unigram = stats.Unigrams.Select(c => (c + 0.5) / (stats.Total + 0.5 * stats.VocabSize)).ToArray();
            var byFrequency = stats.ByFrequency();
            _candidates = byFrequency.Take(Math.Min(4096, Math.Max(2 * clusters.Count, 2000))).ToArray();
            _used = new bool[stats.VocabSize];
            foreach (int t in _naming) _used[t] = true;
            // log P(b | a) for every pair of candidates, and its transpose, so scoring is array reads.
            _slot = new int[stats.VocabSize];
            Array.Fill(_slot, -1);
            for (int j = 0; j < _candidates.Length; j++) _slot[_candidates[j]] = j;
            foreach (int t in _naming) if (_slot[t] < 0) throw new InvalidOperationException("a cluster is named outside the candidates");
            int m = _candidates.Length;
            var p = new double[(long)m * m];
            for (int i = 0; i < m; i++)
                for (int j = 0; j < m; j++) p[(long)i * m + j] = (1 - Lambda) * _unigram[_candidates[j]];
            foreach (var (key, count) in stats.Bigrams)
            {
                int a = _slot[(int)(key / stats.VocabSize)], b = _slot[(int)(key % stats.VocabSize)];
                if (a >= 0 && b >= 0) p[(long)a * m + b] += Lambda * count / stats.Unigrams[_candidates[a]];
            }
            _logP = new float[(long)m * m];
            _logPT = new float[(long)m * m];
            for (int i = 0; i < m; i++)
                for (int j = 0; j < m; j++) _logPT[(long)j * m + i] = _logP[(long)i * m + j] = (float)Math.Log(p[(long)i * m + j]);
        }

        readonly int[] _slot;
        readonly float[] _logP, _logPT;

        double LogP(int a, int b)
        {
            if (_slot[a] >= 0 && _slot[b] >= 0) return _logP[(long)_slot[a] * _candidates.Length + _slot[b]];
            // Outside the candidates (only when scoring a given naming, e.g. the true one): the same formula.
            long ua = _stats.Unigrams[a];
            double conditional = ua == 0 ? 0 : (double)_stats.Bigrams.GetValueOrDefault(_stats.Key(a, b)) / ua;
            return Math.Log(Lambda * conditional + (1 - Lambda) * _unigram[b]);
        }

        double EdgeScore(int e) { var (a, b, n) = _edges[e]; return n * LogP(_naming[a], _naming[b]); }

        double Score(int c1, int c2)
        {
            _epoch++;
            double s = 0;
            foreach (var list in c2 < 0 ? new[] { _incident[c1] } : new[] { _incident[c1], _incident[c2] })
                foreach (int e in list)
                    if (_stamp[e] != _epoch) { _stamp[e] = _epoch; s += EdgeScore(e); }
            return s;
        }

        /// <summary>
        /// One pass over the clusters, largest first: for each, score every candidate token against its current
        /// neighbours, and take the best of the top five by the exact change (a swap if another cluster holds it).
        /// </summary>
        long BestResponseSweep(int sweep, IProgressSink progress)
        {
            int k = _naming.Length;
            var owner = new int[_stats.VocabSize];
            Array.Fill(owner, -1);
            for (int c = 0; c < k; c++) owner[_naming[c]] = c;
            var scores = new double[_candidates.Length];
            long changed = 0;
            var order = Enumerable.Range(0, k).OrderByDescending(c => _sizes[c]).ToArray();
            for (int o = 0; o < order.Length; o++)
            {
                int a = order[o];
                Array.Clear(scores);
                int m = _candidates.Length;
                foreach (int e in _incident[a])
                {
                    var (x, y, n) = _edges[e];
                    if (x == a && y == a)
                        for (int j = 0; j < m; j++) scores[j] += n * _logP[(long)j * m + j];
                    else
                    {
                        // a → y: column slot(y) of log P, read as a row of the transpose; x → a: row slot(x).
                        var row = x == a ? _logPT.AsSpan((int)((long)_slot[_naming[y]] * m), m) : _logP.AsSpan((int)((long)_slot[_naming[x]] * m), m);
                        for (int j = 0; j < m; j++) scores[j] += n * row[j];
                    }
                }
                var top = Enumerable.Range(0, _candidates.Length).Where(j => _candidates[j] != _naming[a])
                    .OrderByDescending(j => scores[j]).Take(5).ToArray();
                double bestDelta = 1e-9;
                int bestToken = -1;
                foreach (int j in top)
                {
                    int u = _candidates[j], b = owner[u], old = _naming[a];
                    double before = Score(a, b < 0 ? -1 : b);
                    _naming[a] = u;
                    if (b >= 0) _naming[b] = old;
                    double delta = Score(a, b < 0 ? -1 : b) - before;
                    _naming[a] = old;
                    if (b >= 0) _naming[b] = u;
                    if (delta > bestDelta) { bestDelta = delta; bestToken = u; }
                }
                if (bestToken >= 0)
                {
                    int b = owner[bestToken], old = _naming[a];
                    _naming[a] = bestToken; owner[bestToken] = a;
                    if (b >= 0) { _naming[b] = old; owner[old] = b; } else { owner[old] = -1; _used[old] = false; _used[bestToken] = true; }
                    changed++;
                }
                if (o % 50 == 0) progress.Report($"bigram solver sweep {sweep + 1}", o, order.Length, $"{changed} changed");
            }
            progress.Done($"bigram solver sweep {sweep + 1}");
            return changed;
        }

        public double Scorer(int[] naming)
        {
            var saved = (int[])_naming.Clone();
            Array.Copy(naming, _naming, naming.Length);
            double s = Total();
            Array.Copy(saved, _naming, saved.Length);
            return s;
        }

        public double Total() { double s = 0; for (int e = 0; e < _edges.Length; e++) s += EdgeScore(e); return s; }

        public int[] Solve(long proposals, int sweeps, IProgressSink progress)
        {
            double start = Total();
            long accepted = 0;
            for (int sweep = 0; sweep < sweeps; sweep++)
            {
                long changed = BestResponseSweep(sweep, progress);
                accepted += changed;
                if (changed == 0) break;
            }
            int k = _naming.Length;
            // Then random swaps, favouring large clusters (they carry most positions): draw a cluster by size.
            var cumulative = new double[k];
            double acc = 0;
            for (int c = 0; c < k; c++) { acc += Math.Sqrt(_sizes[c]); cumulative[c] = acc; }
            for (long p = 0; p < proposals; p++)
            {
                int a = Array.BinarySearch(cumulative, _rng.NextDouble() * acc);
                a = a < 0 ? Math.Min(~a, k - 1) : a;
                if (_rng.Next(2) == 0)
                {
                    int b = _rng.Next(k);
                    if (b == a) continue;
                    double before = Score(a, b);
                    (_naming[a], _naming[b]) = (_naming[b], _naming[a]);
                    if (Score(a, b) > before + 1e-9) accepted++;
                    else (_naming[a], _naming[b]) = (_naming[b], _naming[a]);
                }
                else
                {
                    int u = _candidates[_rng.Next(_candidates.Length)];
                    if (_used[u]) continue;
                    double before = Score(a, -1);
                    int old = _naming[a];
                    _naming[a] = u;
                    if (Score(a, -1) > before + 1e-9) { _used[old] = false; _used[u] = true; accepted++; }
                    else _naming[a] = old;
                }
                if (p % 100_000 == 0) progress.Report("bigram substitution solver", p, proposals, $"{accepted} accepted");
            }
            progress.Report("bigram substitution solver", proposals, proposals, $"{accepted} accepted, log-likelihood {start:F0} → {Total():F0}");
            progress.Done("bigram substitution solver");
            return _naming;
        }
    }
}
