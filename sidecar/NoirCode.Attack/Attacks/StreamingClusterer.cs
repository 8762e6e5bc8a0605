using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace NoirCode.Attack.Attacks;

/// <summary>
/// Online leader clustering of encoder outputs, as a cloud that keeps everything it receives would run it: each
/// arriving vector (centred by the mean of the first vectors seen, unit length) joins the most similar cluster
/// centre if the cosine reaches the threshold, otherwise it opens a new cluster; centres are running means. One
/// pass, memory linear in the clusters (plus the vectors when kept for a refinement), about 10^6 tokens in minutes on 2 cores. A prefix of the stream gets the
/// same assignments as it would alone, so one pass gives every volume of the curve.
/// Under one key each token enters the first block as the same INDVocab row, so the clusters are the symbols of
/// a substitution cipher; the threshold comes from the attacker's own simulated keys (<see cref="Calibrate"/>).
/// </summary>
public sealed class StreamingClusterer : IDisposable
{
    const int CentringSample = 20_000;
    const int Chunk = 2048;
    readonly double _threshold;
    readonly int _dim;
    Tensor _sums;      // [capacity, D] running sums of the member vectors
    Tensor _centres;   // [capacity, D] unit centres
    int _count;
    Tensor? _mean;
    readonly List<Tensor> _pending = new();
    long _pendingRows;
    readonly List<int> _assignments = new();

    readonly List<Tensor>? _kept;

    /// <param name="keepVectors">keep the centred unit vectors (<see cref="UnitVectors"/>), for a refinement after the pass</param>
    public StreamingClusterer(int hiddenSize, double threshold, bool keepVectors = false)
    {
        _dim = hiddenSize; _threshold = threshold;
        if (keepVectors) _kept = new List<Tensor>();
        // Owned by this object, not by whatever dispose scope the caller has open.
        _sums = zeros(4096, hiddenSize).DetachFromDisposeScope();
        _centres = zeros(4096, hiddenSize).DetachFromDisposeScope();
    }

    public int Clusters => _count;
    public long Assigned => _assignments.Count;

    /// <summary>Adds one sequence's encoder outputs [T, D]; assignments come out in arrival order.</summary>
    public void Add(Tensor vectors)
    {
        _pending.Add(vectors.to_type(ScalarType.Float32).detach().clone().DetachFromDisposeScope());
        _pendingRows += vectors.shape[0];
        if (_mean is null && _pendingRows < CentringSample) return;
        Flush();
    }

    /// <summary>Cluster ids of every vector added so far, in order.</summary>
    public int[] Assignments()
    {
        Flush();
        return _assignments.ToArray();
    }

    void Flush()
    {
        if (_pending.Count == 0) return;
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var all = cat(_pending, 0);
        foreach (var p in _pending) p.Dispose();
        _pending.Clear(); _pendingRows = 0;
        if (_mean is null) _mean = all.mean(new long[] { 0 }).DetachFromDisposeScope();
        var x = F.normalize(all - _mean, dim: 1);
        _kept?.Add(x.clone().DetachFromDisposeScope());
        for (long s = 0; s < x.shape[0]; s += Chunk) AssignChunk(x.narrow(0, s, Math.Min(Chunk, x.shape[0] - s)));
    }

    void AssignChunk(Tensor x)
    {
        using var scope = NewDisposeScope();
        long n = x.shape[0];
        var result = new int[n];
        var open = new List<long>();
        if (_count > 0)
        {
            var (sim, best) = x.matmul(_centres.narrow(0, 0, _count).t()).max(1);
            var s = sim.data<float>().ToArray();
            var b = best.data<long>().ToArray();
            for (long i = 0; i < n; i++) { if (s[i] >= _threshold) result[i] = (int)b[i]; else { result[i] = -1; open.Add(i); } }
        }
        else for (long i = 0; i < n; i++) { result[i] = -1; open.Add(i); }
        // Vectors that matched no centre: in order, each joins a cluster opened earlier in this chunk or opens one.
        var opened = new List<(int Id, Tensor Centre)>();
        foreach (long i in open)
        {
            var v = x[i];
            int join = -1;
            if (opened.Count > 0)
            {
                var (sim, best) = stack(opened.Select(o => o.Centre).ToList()).matmul(v).max(0);
                if (sim.item<float>() >= _threshold) join = opened[(int)best.item<long>()].Id;
            }
            if (join < 0)
            {
                join = Open();
                opened.Add((join, v));
            }
            result[i] = join;
        }
        // Running means: add each member to its cluster's sum, then renormalise the centres that moved.
        var ids = tensor(result.Select(r => (long)r).ToArray());
        using (var one = 1.ToScalar()) _sums.index_add_(0, ids, x, one); // explicit scalar: see RmsNorm
        var moved = ids.unique().Item1;
        _centres.index_copy_(0, moved, F.normalize(_sums.index_select(0, moved), dim: 1));
        _assignments.AddRange(result);
    }

    int Open()
    {
        if (_count == _sums.shape[0])
        {
            var grownSums = zeros(2 * _count, _dim);
            grownSums.narrow(0, 0, _count).copy_(_sums);
            var grownCentres = zeros(2 * _count, _dim);
            grownCentres.narrow(0, 0, _count).copy_(_centres);
            _sums.Dispose(); _centres.Dispose();
            _sums = grownSums.DetachFromDisposeScope();
            _centres = grownCentres.DetachFromDisposeScope();
        }
        return _count++;
    }

    /// <summary>The centred unit vectors the clusters were formed from, in order [N, D] (only when kept); owned by the
    /// clusterer (one copy: the pieces are joined in place).</summary>
    public Tensor UnitVectors()
    {
        if (_kept is null) throw new InvalidOperationException("this clusterer does not keep its vectors");
        Flush();
        if (_kept.Count > 1)
        {
            var joined = cat(_kept, 0).DetachFromDisposeScope();
            foreach (var k in _kept) k.Dispose();
            _kept.Clear();
            _kept.Add(joined);
        }
        return _kept[0];
    }

    /// <summary>Splits a flat assignment list back into sequences of the given lengths.</summary>
    public static List<int[]> Split(int[] flat, IEnumerable<int> lengths)
    {
        var result = new List<int[]>();
        int offset = 0;
        foreach (int len in lengths) { result.Add(flat[offset..(offset + len)]); offset += len; }
        return result;
    }

    /// <summary>
    /// The attacker's calibration: cluster its own simulated traffic (public code under keys it made) at each
    /// threshold and keep the one whose clusters best match the tokens it knows there (harmonic mean of purity and
    /// completeness, <see cref="ClusterAgreement"/>).
    /// </summary>
    public static (double Threshold, double Purity, double Completeness, int Clusters) Calibrate(IReadOnlyList<Tensor> views, IReadOnlyList<int[]> tokens,
        IEnumerable<double> thresholds)
    {
        var best = (Threshold: double.NaN, Purity: 0.0, Completeness: 0.0, Clusters: 0);
        double bestF = -1;
        foreach (double tau in thresholds)
        {
            using var clusterer = new StreamingClusterer((int)views[0].shape[1], tau);
            foreach (var v in views) clusterer.Add(v);
            var assigned = Split(clusterer.Assignments(), tokens.Select(t => t.Length));
            var (purity, completeness) = ClusterAgreement.Of(assigned, tokens);
            double f = ClusterAgreement.F(purity, completeness);
            if (f >= bestF) { bestF = f; best = (tau, purity, completeness, clusterer.Clusters); } // a tie goes to the higher threshold (the purer)
        }
        return best;
    }

    public void Dispose()
    {
        _sums.Dispose(); _centres.Dispose(); _mean?.Dispose();
        foreach (var k in _kept ?? new List<Tensor>()) k.Dispose();
        foreach (var p in _pending) p.Dispose();
    }
}
