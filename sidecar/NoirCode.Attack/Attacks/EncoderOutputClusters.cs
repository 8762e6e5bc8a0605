using NoirCode.Core.Util;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace NoirCode.Attack.Attacks;

/// <summary>
/// Cross-prompt clustering of everything the cloud received: spherical k-means (k-means++ seeding) on the
/// centred, unit-length encoder outputs of all sequences pooled. With a fixed INDVocab the same token always
/// enters the first block with the same randomised embedding, so if one block keeps that identity, each cluster
/// gathers one token's occurrences: a substitution cipher whose symbols the frequency attacks then name.
/// k is the number of distinct tokens a public stream of the same length has (the attacker's estimate).
/// </summary>
public sealed class EncoderOutputClusters
{
    /// <summary>Cluster of each position, per sequence.</summary>
    public IReadOnlyList<int[]> Assignments { get; }
    public int Count { get; }
    /// <summary>Positions per cluster.</summary>
    public long[] Sizes { get; }

    EncoderOutputClusters(IReadOnlyList<int[]> assignments, int count)
    {
        Assignments = assignments; Count = count;
        Sizes = new long[count];
        foreach (var seq in assignments) foreach (int c in seq) Sizes[c]++;
    }

    /// <param name="mergeThresholds">after k-means, clusters whose centres have cosine above the threshold are merged
    /// (transitively): k-means splits a frequent token's many occurrences, merging puts them back together.
    /// One clustering is returned per threshold (null: no merging).</param>
    public static List<EncoderOutputClusters> Fit(IReadOnlyList<Tensor> views, int k, int iterations, int seed, IProgressSink progress,
        IReadOnlyList<double?> mergeThresholds)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var all = cat(views.ToList(), 0);
        var x = F.normalize(all - all.mean(new long[] { 0 }, keepdim: true), dim: 1);
        long n = x.shape[0];
        k = (int)Math.Clamp(k, 1, n);
        var gen = new Generator((ulong)seed);
        var centres = SeedPlusPlus(x, k, gen, progress);
        var assign = zeros(n, dtype: int64);
        for (int it = 0; it < iterations; it++)
        {
            var (best, sim) = Nearest(x, centres);
            assign = best;
            var sums = zeros(k, x.shape[1]).index_add_(0, assign, x, 1);
            var counts = zeros(k).index_add_(0, assign, ones(n), 1);
            // An empty cluster restarts at the point its cluster fits worst.
            var empty = (counts == 0).nonzero().flatten();
            if (empty.shape[0] > 0)
            {
                var worst = sim.argsort().narrow(0, 0, empty.shape[0]);
                sums.index_copy_(0, empty, x.index_select(0, worst));
            }
            centres = F.normalize(sums, dim: 1);
            progress.Report("clustering encoder outputs", it + 1, iterations);
        }
        assign = Nearest(x, centres).Best;
        progress.Done("clustering encoder outputs");
        var flat = assign.data<long>().Select(c => (int)c).ToArray();
        var used = zeros(k).index_add_(0, assign, ones(n), 1) > 0;
        var similarity = centres.matmul(centres.t());
        var centreSim = similarity.data<float>().ToArray();
        var isUsed = used.data<bool>().ToArray();
        var fits = new List<EncoderOutputClusters>();
        foreach (var threshold in mergeThresholds)
        {
            var parent = Enumerable.Range(0, k).ToArray();
            int Find(int a) { while (parent[a] != a) a = parent[a] = parent[parent[a]]; return a; }
            if (threshold is double tau)
                for (int a = 0; a < k; a++)
                    if (isUsed[a])
                        for (int b = a + 1; b < k; b++)
                            if (isUsed[b] && centreSim[(long)a * k + b] > tau) parent[Find(a)] = Find(b);
            // Dense cluster ids 0..count-1.
            var id = new Dictionary<int, int>();
            var relabelled = flat.Select(c => { int root = Find(c); if (!id.TryGetValue(root, out int i)) id[root] = i = id.Count; return i; }).ToArray();
            var result = new List<int[]>();
            int offset = 0;
            foreach (var v in views)
            {
                int t = (int)v.shape[0];
                result.Add(relabelled[offset..(offset + t)]);
                offset += t;
            }
            fits.Add(new EncoderOutputClusters(result, id.Count));
        }
        return fits;
    }

    static (Tensor Best, Tensor Sim) Nearest(Tensor x, Tensor centres)
    {
        var best = new List<Tensor>();
        var sims = new List<Tensor>();
        const long chunk = 4096;
        for (long s = 0; s < x.shape[0]; s += chunk)
        {
            var (values, indices) = x.narrow(0, s, Math.Min(chunk, x.shape[0] - s)).matmul(centres.t()).max(1);
            best.Add(indices); sims.Add(values);
        }
        return (cat(best, 0), cat(sims, 0));
    }

    /// <summary>k-means++: each new centre is drawn with probability ∝ its squared distance to the nearest centre so far.</summary>
    static Tensor SeedPlusPlus(Tensor x, int k, Generator gen, IProgressSink progress)
    {
        long n = x.shape[0];
        var chosen = new long[k];
        chosen[0] = randint(n, new long[] { 1 }, generator: gen).item<long>();
        var dist = (2 - 2 * x.matmul(x[chosen[0]])).clamp_min(0);
        for (int i = 1; i < k; i++)
        {
            using var step = NewDisposeScope();
            var w = dist.sum().item<float>() > 0 ? dist : ones(n);
            chosen[i] = multinomial(w, 1, generator: gen).item<long>();
            var d = (2 - 2 * x.matmul(x[chosen[i]])).clamp_min(0);
            var old = dist;
            dist = minimum(dist, d).MoveToOuterDisposeScope();
            old.Dispose();
            if (i % 256 == 0) progress.Report("seeding clusters", i, k);
        }
        return x.index_select(0, tensor(chosen)).clone();
    }

    /// <summary>Diagnostic, uses the true tokens: the share of positions that sit in their token's largest
    /// cluster (1 when no token is split over several clusters).</summary>
    public double Completeness(IReadOnlyList<int[]> truth) => ClusterAgreement.Of(Assignments, truth).Completeness;

    /// <summary>Diagnostic, uses the true tokens (no attacker has them): the share of positions whose token is
    /// the most common token of their cluster, i.e. what a perfect naming of the clusters would recover.</summary>
    public double Purity(IReadOnlyList<int[]> truth) => ClusterAgreement.Of(Assignments, truth).Purity;
}
