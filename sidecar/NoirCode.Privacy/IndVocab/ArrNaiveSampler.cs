namespace NoirCode.Privacy.IndVocab;

/// <summary>
/// The O(|V|) per draw transcription of Eq. 2, straight from the formula. Only for tests: it is the yardstick
/// the fast sampler in <see cref="ArrColumn"/> is checked against.
/// </summary>
public static class ArrNaiveSampler
{
    public static int Sample(IReadOnlyList<double> column, int t, double epsilonPerFeature, int dimension, CtrRandom rng)
    {
        int n = column.Count;
        var w = new double[n];
        double z = 0, minOther = double.PositiveInfinity;
        for (int k = 0; k < n; k++)
        {
            w[k] = Math.Exp(-Math.Abs(column[t] - column[k]) / dimension);
            z += w[k];
            if (k != t) minOther = Math.Min(minOther, w[k]);
        }
        double beta = epsilonPerFeature + Math.Log(n - 1) + Math.Log(minOther / z);
        double p = 1 / (1 + (n - 1) * Math.Exp(-beta)); // exp(β)/(exp(β)+|V|−1)
        if (rng.NextDouble() < p) return t;
        double u = rng.NextDouble() * (z - w[t]);
        for (int k = 0; k < n; k++)
        {
            if (k == t) continue;
            u -= w[k];
            if (u < 0) return k;
        }
        return t == n - 1 ? n - 2 : n - 1;
    }
}
