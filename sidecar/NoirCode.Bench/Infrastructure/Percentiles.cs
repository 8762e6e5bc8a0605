namespace NoirCode.Bench.Infrastructure;

/// <summary>Order statistics of a sample (nearest-rank percentiles).</summary>
public static class Percentiles
{
    public static double Of(IReadOnlyCollection<double> values, double p)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToArray();
        int rank = (int)Math.Ceiling(p / 100.0 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    public static double Median(IReadOnlyCollection<double> values) => Of(values, 50);
}
