using NoirCode.Attack.Attacks;
using NoirCode.Attack.Data;
using NoirCode.Attack.Wire;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Protocol;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace NoirCode.Attack.Evaluation;

/// <summary>
/// How well what the cloud receives clusters by token under a candidate set-up (split depth, per-occurrence noise,
/// homophones), on public code through fresh keys the attacker made: the calibrated clustering's purity and
/// completeness, and the cosines that decide it (two occurrences of one token, of two tokens, one occurrence against
/// its token's mean). A cheap screen for an inference-cipher defence before a volume curve is worth running.
/// </summary>
public static class WireGeometry
{
    public sealed record Result(SplitSpec Split, double ResidualNoise, int Homophones, long Tokens, WireClustering Clustering,
        double[] SameToken, double[] OtherToken, double[] ToOwnMean);

    /// <summary>The quantiles the cosines are reported at.</summary>
    public static readonly double[] Quantiles = { 0.01, 0.05, 0.5, 0.95, 0.99, 0.999 };

    public static Result Measure(string publicModel, SplitSpec split, double residualNoise, int homophones, long tokens, IReadOnlyList<double> thresholds)
    {
        var config = ModelConfig.Load(publicModel);
        var tokenizer = CausalLM.LoadTokenizer(publicModel, config);
        var windows = PublicCorpus.Slice(PublicCorpus.Load(null, tokenizer, 4 * tokens).Documents).Windows(512, tokens);
        var keys = ClusterCalibration.SimulatedKeys(publicModel, "wire-geometry", homophones: homophones);
        using var client = new ClientUnderTest("wire geometry", ClientModel.Load(publicModel, split, untieHead: true), keys, WireDtype.Float16, residualNoise);
        var views = windows.Select(w => client.CloudView(w)).ToList();
        try
        {
            var clustering = WireClustering.Calibrate(views, windows, thresholds, homophones);
            var (same, other, own) = Cosines(views, windows);
            return new Result(split, residualNoise, homophones, windows.Sum(w => (long)w.Length), clustering, same, other, own);
        }
        finally { foreach (var v in views) v.Dispose(); }
    }

    static (double[] Same, double[] Other, double[] OwnMean) Cosines(IReadOnlyList<Tensor> views, IReadOnlyList<int[]> windows)
    {
        using var scope = NewDisposeScope();
        var all = cat(views.ToList(), 0);
        var x = F.normalize(all - all.mean(new long[] { 0 }), dim: 1);
        var ids = windows.SelectMany(w => w).ToArray();
        var byToken = ids.Select((t, i) => (t, i)).GroupBy(p => p.t, p => p.i).Where(g => g.Count() >= 2).Select(g => g.ToArray()).ToArray();
        var rng = new Random(1);
        var (a, b, c, d) = (new List<long>(), new List<long>(), new List<long>(), new List<long>());
        for (int k = 0; k < 20_000; k++)
        {
            var g = byToken[rng.Next(byToken.Length)];
            int i = g[rng.Next(g.Length)], j = g[rng.Next(g.Length)];
            if (i != j) { a.Add(i); b.Add(j); }
            int u = rng.Next(ids.Length), v = rng.Next(ids.Length);
            if (ids[u] != ids[v]) { c.Add(u); d.Add(v); }
        }
        double[] Pairs(List<long> p, List<long> q) =>
            (x.index_select(0, tensor(p.ToArray())) * x.index_select(0, tensor(q.ToArray()))).sum(1).data<float>().Select(f => (double)f).ToArray();
        // One occurrence against the mean of its token's other occurrences (tokens seen at least ten times).
        var own = byToken.Where(g => g.Length >= 10).Take(500).Select(g =>
        {
            var mean = F.normalize(x.index_select(0, tensor(g[1..].Select(i => (long)i).ToArray())).mean(new long[] { 0 }), dim: 0);
            return (double)(x[g[0]] * mean).sum().item<float>();
        }).ToArray();
        return (Pairs(a, b), Pairs(c, d), own);
    }

    public static double Quantile(double[] values, double q)
    {
        if (values.Length == 0) return double.NaN;
        var sorted = values.Order().ToArray();
        return sorted[(int)Math.Round(q * (sorted.Length - 1))];
    }
}
