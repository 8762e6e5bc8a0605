using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace NoirCode.Attack.Attacks;

/// <summary>
/// Lloyd refinement of a leader clustering, for traffic whose vectors carry per-occurrence noise (residual masking):
/// one noisy vector is a poor seed, but a centre averaged over many occurrences is clean, so every vector moves to
/// the centre most similar to it. Its own centre is taken without it (leave-one-out); a vector alone in its cluster
/// stays only if no other centre reaches the leader threshold, as when it opened the cluster. Cluster ids stay those
/// of the leader clustering (some empty out), so namings of prefixes stay comparable.
/// At σ = 1 on 3 × 10^4 tokens of simulated traffic it takes the leader clustering at 0.3 from completeness 0.39 to
/// 0.55 (purity 0.99); the volume attack's calibration chose 0.2 there, refined to 0.77 / 0.71 (docs/privacy.md §10).
/// </summary>
public static class ClusterRefinement
{
    const int Chunk = 4096;

    /// <param name="unit">[N, D] centred unit vectors, in stream order</param>
    /// <param name="start">the leader clustering's assignment of each vector</param>
    /// <param name="threshold">the similarity at which a vector would have joined a centre rather than open a cluster</param>
    /// <param name="iterations">at most; it stops once fewer than 0.2 % of the vectors move</param>
    public static int[] Refine(Tensor unit, int[] start, double threshold, int iterations)
    {
        if (unit.shape[0] != start.Length) throw new ArgumentException($"{unit.shape[0]} vectors but {start.Length} assignments");
        using var _ = no_grad();
        // Explicit scalars (see RmsNorm): an implicit one can be freed mid-call.
        using var one = 1.ToScalar();
        using var alone = threshold.ToScalar();
        var assignment = (int[])start.Clone();
        for (int it = 0; it < iterations; it++)
        {
            using var scope = NewDisposeScope();
            // Dense labels for the clusters in use, and back to their leader ids.
            var ids = assignment.Distinct().ToArray();
            var dense = new Dictionary<int, int>(ids.Length);
            for (int i = 0; i < ids.Length; i++) dense[ids[i]] = i;
            var labels = tensor(assignment.Select(a => (long)dense[a]).ToArray());
            var sums = zeros(ids.Length, unit.shape[1]).index_add_(0, labels, unit, one);
            var counts = zeros(ids.Length).index_add_(0, labels, ones(unit.shape[0]), one);
            var centres = F.normalize(sums, dim: 1);
            int moved = 0;
            var next = new int[assignment.Length];
            for (long s = 0; s < unit.shape[0]; s += Chunk)
            {
                using var inner = NewDisposeScope();
                long n = Math.Min(Chunk, unit.shape[0] - s);
                var x = unit.narrow(0, s, n);
                var own = labels.narrow(0, s, n);
                var similarity = x.matmul(centres.t());
                var leaveOneOut = (x * F.normalize(sums.index_select(0, own) - x, dim: 1)).sum(1);
                leaveOneOut = where(counts.index_select(0, own).gt(one), leaveOneOut, full_like(leaveOneOut, alone));
                similarity.scatter_(1, own.unsqueeze(1), leaveOneOut.unsqueeze(1));
                var best = similarity.argmax(1).data<long>().ToArray();
                for (int i = 0; i < n; i++)
                {
                    next[s + i] = ids[best[i]];
                    if (next[s + i] != assignment[s + i]) moved++;
                }
            }
            assignment = next;
            if (moved < 0.002 * assignment.Length) break;
        }
        return assignment;
    }
}
