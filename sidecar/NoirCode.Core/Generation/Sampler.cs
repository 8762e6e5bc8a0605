namespace NoirCode.Core.Generation;

/// <summary>Chooses the next token from logits: greedy at temperature 0, else temperature + nucleus (top-p) sampling.</summary>
public sealed class Sampler
{
    readonly double _temperature, _topP;
    readonly Random _random;

    public Sampler(double temperature, double topP, int? seed)
    {
        if (temperature < 0) throw new ArgumentOutOfRangeException(nameof(temperature), "temperature must be ≥ 0");
        if (topP <= 0 || topP > 1) throw new ArgumentOutOfRangeException(nameof(topP), "top-p must be in (0, 1]");
        _temperature = temperature; _topP = topP;
        _random = seed is int s ? new Random(s) : new Random();
    }

    /// <param name="allowed">ids the caller accepts (e.g. those the tokenizer can produce); null for all</param>
    public int Next(float[] logits, int allowed)
    {
        int n = Math.Min(allowed, logits.Length);
        if (_temperature == 0) return ArgMax(logits, n);
        double max = double.NegativeInfinity;
        for (int i = 0; i < n; i++) max = Math.Max(max, logits[i]);
        var probs = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) sum += probs[i] = Math.Exp((logits[i] - max) / _temperature);
        var order = Enumerable.Range(0, n).OrderByDescending(i => probs[i]).ToArray();
        // Keep the smallest set of most likely tokens whose mass reaches top-p.
        double kept = 0;
        int keep = 0;
        while (keep < n && (keep == 0 || kept < _topP * sum)) kept += probs[order[keep++]];
        double r = _random.NextDouble() * kept;
        for (int k = 0; k < keep; k++)
        {
            r -= probs[order[k]];
            if (r <= 0) return order[k];
        }
        return order[keep - 1];
    }

    public static int ArgMax(float[] logits, int n)
    {
        int best = 0;
        for (int i = 1; i < n; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }
}
