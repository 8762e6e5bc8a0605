using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace NoirCode.Attack.Attacks;

/// <summary>
/// How the volume attack turns what the cloud receives into cipher symbols, as the attacker calibrates it on its own
/// simulated traffic (public code under keys it made, the mechanism's noise included): the leader threshold; Lloyd
/// refinement when the leader clustering alone is poor (per-occurrence noise, <see cref="ClusterRefinement"/>); and how
/// many symbols per token the decipherer allows, since clusters that still split tokens need more than the mechanism's k.
/// </summary>
public sealed record WireClustering(double Threshold, int RefineIterations, int SymbolsPerToken, double Purity, double Completeness)
{
    /// <summary>Refinement iterations when refining (it stops earlier once almost nothing moves).</summary>
    public const int Refinement = 8;

    /// <summary>Calibrates on the attacker's simulated traffic (<paramref name="views"/> of the public
    /// <paramref name="tokens"/> it sent) for a mechanism with <paramref name="homophones"/> rows per token.</summary>
    public static WireClustering Calibrate(IReadOnlyList<Tensor> views, IReadOnlyList<int[]> tokens, IReadOnlyList<double> thresholds, int homophones)
    {
        var (tau, purity, completeness, leaderClusters) = StreamingClusterer.Calibrate(views, tokens, thresholds);
        // Symbols a perfect clustering would give: a token seen n times shows at most min(k, n) of its k rows.
        double expected = tokens.SelectMany(t => t).GroupBy(t => t).Sum(g => Math.Min(homophones, g.Count()));
        // Good enough as it is: pure clusters, and not many more of them than the mechanism makes (k tables split each
        // token k ways by design, so completeness against tokens says nothing there). Then the decipherer allows k.
        if (purity >= 0.95 && leaderClusters <= 1.1 * expected) return new WireClustering(tau, 0, homophones, purity, completeness);
        var best = (Tau: tau, Iterations: 0, Purity: purity, Completeness: completeness, Clusters: leaderClusters);
        // Refinement only merges, so it starts from the chosen threshold or a lower one (a coarser leader clustering,
        // fewer single noisy seeds; at σ = 1 the best start was 0.2 where the leader alone chose 0.3).
        foreach (double t in thresholds.Where(t => t <= tau).OrderDescending().Take(3))
        {
            var (assigned, clusters) = Refined(views, tokens, t);
            var (p, c) = ClusterAgreement.Of(assigned, tokens);
            if (ClusterAgreement.F(p, c) > ClusterAgreement.F(best.Purity, best.Completeness)) best = (t, Refinement, p, c, clusters);
        }
        // Clusters that still split tokens: the decipherer lets each token name that many times k symbols.
        int perToken = Math.Max(homophones, (int)Math.Round(homophones * best.Clusters / Math.Max(1, expected)));
        return new WireClustering(best.Tau, best.Iterations, perToken, best.Purity, best.Completeness);
    }

    /// <summary>The cipher symbols of each volume's prefix: the leader clusters, refined over that prefix's vectors when
    /// refining (a cloud that has seen that much has only those; the centring mean comes from the first 20k vectors, so
    /// smaller prefixes borrow it), in the leader's ids.</summary>
    public Func<long, IReadOnlyList<int[]>> SymbolsAt(StreamingClusterer clusterer, IReadOnlyList<int> lengths)
    {
        var leader = clusterer.Assignments();
        var leaderSequences = StreamingClusterer.Split(leader, lengths);
        if (RefineIterations == 0) return volume => Decipherment.CipherStream.Prefix(leaderSequences, volume);
        var unit = clusterer.UnitVectors();
        (long Volume, List<int[]> Symbols)? last = null; // the report asks again for the largest volume
        return volume =>
        {
            if (last is { } l && l.Volume == volume) return l.Symbols;
            var prefixLengths = Decipherment.CipherStream.Prefix(leaderSequences, volume).Select(s => s.Length).ToList();
            int n = prefixLengths.Sum();
            using var prefix = unit.narrow(0, 0, n);
            var symbols = StreamingClusterer.Split(ClusterRefinement.Refine(prefix, leader[..n], Threshold, RefineIterations), prefixLengths);
            last = (volume, symbols);
            return symbols;
        };
    }

    static (List<int[]> Assigned, int Clusters) Refined(IReadOnlyList<Tensor> views, IReadOnlyList<int[]> tokens, double threshold)
    {
        using var clusterer = new StreamingClusterer((int)views[0].shape[1], threshold, keepVectors: true);
        foreach (var v in views) clusterer.Add(v);
        var leader = clusterer.Assignments();
        var unit = clusterer.UnitVectors();
        var refined = ClusterRefinement.Refine(unit, leader, threshold, Refinement);
        return (StreamingClusterer.Split(refined, tokens.Select(t => t.Length)), refined.Distinct().Count());
    }

    public JsonObject ToJson() => new()
    {
        ["threshold"] = Threshold, ["refinement"] = RefineIterations, ["symbols_per_token"] = SymbolsPerToken,
        ["purity"] = Purity, ["completeness"] = Completeness,
    };

    public static WireClustering FromJson(JsonObject o) => new((double)o["threshold"]!, (int)o["refinement"]!, (int)o["symbols_per_token"]!,
        (double)o["purity"]!, (double)o["completeness"]!);
}
