namespace NoirCode.Attack.Attacks;

/// <summary>Purity (share of positions whose token is their cluster's most common token) and completeness (share
/// of positions in their token's largest cluster); needs the true tokens, so only the attacker's simulation and
/// the measurement use it.</summary>
public static class ClusterAgreement
{
    public static (double Purity, double Completeness) Of(IReadOnlyList<int[]> clusters, IReadOnlyList<int[]> tokens)
    {
        var counts = new Dictionary<(int Cluster, int Token), int>();
        long total = 0;
        for (int s = 0; s < tokens.Count; s++)
            for (int i = 0; i < tokens[s].Length; i++) { var k = (clusters[s][i], tokens[s][i]); counts[k] = counts.GetValueOrDefault(k) + 1; total++; }
        if (total == 0) return (0, 0);
        double purity = counts.GroupBy(kv => kv.Key.Cluster).Sum(g => (long)g.Max(kv => kv.Value)) / (double)total;
        double completeness = counts.GroupBy(kv => kv.Key.Token).Sum(g => (long)g.Max(kv => kv.Value)) / (double)total;
        return (purity, completeness);
    }

    /// <summary>Their harmonic mean: what the attacker's calibrations maximise.</summary>
    public static double F(double purity, double completeness) => 2 * purity * completeness / Math.Max(1e-9, purity + completeness);
}
