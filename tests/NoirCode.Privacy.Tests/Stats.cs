using MathNet.Numerics.Distributions;

namespace NoirCode.Privacy.Tests;

/// <summary>Goodness-of-fit helpers. Significance 1e-4, so a correct sampler fails about once in 10,000 runs.</summary>
public static class Stats
{
    public const double Alpha = 1e-4;

    /// <summary>Pearson's χ² of observed counts against expected probabilities (cells with tiny expectations merged).</summary>
    public static (double Statistic, double Critical) ChiSquare(IReadOnlyList<long> observed, IReadOnlyList<double> probabilities)
    {
        long n = observed.Sum();
        double stat = 0, pooledObs = 0, pooledExp = 0;
        int cells = 0;
        for (int i = 0; i < observed.Count; i++)
        {
            double expected = n * probabilities[i];
            if (expected < 5) { pooledObs += observed[i]; pooledExp += expected; continue; }
            stat += Math.Pow(observed[i] - expected, 2) / expected;
            cells++;
        }
        if (pooledExp > 0) { stat += Math.Pow(pooledObs - pooledExp, 2) / Math.Max(pooledExp, 1e-9); cells++; }
        return (stat, ChiSquared.InvCDF(Math.Max(cells - 1, 1), 1 - Alpha));
    }

    /// <summary>Two-sample χ² homogeneity test of two count vectors over the same categories.</summary>
    public static (double Statistic, double Critical) Homogeneity(IReadOnlyList<long> a, IReadOnlyList<long> b)
    {
        double na = a.Sum(), nb = b.Sum(), stat = 0;
        int cells = 0;
        for (int i = 0; i < a.Count; i++)
        {
            double total = a[i] + b[i];
            if (total < 10) continue;
            double ea = total * na / (na + nb), eb = total * nb / (na + nb);
            stat += Math.Pow(a[i] - ea, 2) / ea + Math.Pow(b[i] - eb, 2) / eb;
            cells++;
        }
        return (stat, ChiSquared.InvCDF(Math.Max(cells - 1, 1), 1 - Alpha));
    }
}
