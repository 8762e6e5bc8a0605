namespace NoirCode.Core.Generation;

/// <summary>Chooses the next token from logits: greedy at temperature 0, else temperature + nucleus (top-p) sampling.
/// It also runs speculative sampling's test of a drafted token (<see cref="Accepts"/>, <see cref="NextWithout"/>), so
/// that verifying drafts keeps the distribution it samples from.</summary>
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

    public bool Greedy => _temperature == 0;

    /// <param name="allowed">ids the caller accepts (e.g. those the tokenizer can produce)</param>
    public int Next(float[] logits, int allowed) => Greedy ? ArgMax(logits, Math.Min(allowed, logits.Length)) : Draw(Nucleus(logits, allowed), excluded: -1);

    /// <summary>The probability <see cref="Next"/> gives <paramref name="id"/>.</summary>
    public double Probability(float[] logits, int allowed, int id)
    {
        if (Greedy) return ArgMax(logits, Math.Min(allowed, logits.Length)) == id ? 1 : 0;
        var n = Nucleus(logits, allowed);
        return n.Contains(id) ? n.Weights[id] / n.Mass : 0;
    }

    /// <summary>
    /// Speculative sampling's test of a drafted token (Leviathan et al. 2023; Chen et al. 2023): accept with
    /// probability min(1, p/q). The drafter here is deterministic (prompt lookup: q is one on the draft), so that is
    /// p(draft); greedy accepts exactly the token it would choose.
    /// </summary>
    public bool Accepts(float[] logits, int allowed, int draft) =>
        Greedy ? ArgMax(logits, Math.Min(allowed, logits.Length)) == draft : _random.NextDouble() < Probability(logits, allowed, draft);

    /// <summary>The token after a rejected draft: drawn from the residual max(0, p − q), renormalised, which with a
    /// one-hot q is p without the draft. Accepting with p(draft) and this together draw from p exactly.</summary>
    public int NextWithout(float[] logits, int allowed, int rejected) =>
        Greedy ? ArgMax(logits, Math.Min(allowed, logits.Length)) : Draw(Nucleus(logits, allowed), rejected);

    /// <summary>The top-p nucleus: ids most likely first, the unnormalised weights of all ids, how many ids it keeps
    /// and their total weight.</summary>
    sealed record NucleusSet(int[] Order, double[] Weights, int Keep, double Mass)
    {
        public bool Contains(int id)
        {
            if (id < 0 || id >= Weights.Length) return false;
            // The nucleus is a prefix of the order by weight: an id is in it if it is at least as heavy as the last kept.
            double last = Weights[Order[Keep - 1]];
            if (Weights[id] > last) return true;
            if (Weights[id] < last) return false;
            return Array.IndexOf(Order, id, 0, Keep) >= 0;
        }
    }

    NucleusSet Nucleus(float[] logits, int allowed)
    {
        int n = Math.Min(allowed, logits.Length);
        double max = double.NegativeInfinity;
        for (int i = 0; i < n; i++) max = Math.Max(max, logits[i]);
        var weights = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) sum += weights[i] = Math.Exp((logits[i] - max) / _temperature);
        var order = Enumerable.Range(0, n).OrderByDescending(i => weights[i]).ToArray();
        // Keep the smallest set of most likely tokens whose mass reaches top-p.
        double kept = 0;
        int keep = 0;
        while (keep < n && (keep == 0 || kept < _topP * sum)) kept += weights[order[keep++]];
        return new NucleusSet(order, weights, keep, kept);
    }

    int Draw(NucleusSet nucleus, int excluded)
    {
        double mass = nucleus.Mass - (nucleus.Contains(excluded) ? nucleus.Weights[excluded] : 0);
        double r = _random.NextDouble() * mass;
        int last = -1;
        for (int k = 0; k < nucleus.Keep; k++)
        {
            int id = nucleus.Order[k];
            if (id == excluded) continue;
            last = id;
            r -= nucleus.Weights[id];
            if (r <= 0) return id;
        }
        // Rounding left a sliver of r; with the rejected draft the whole nucleus, p(draft) was 1 and it was accepted.
        return last >= 0 ? last : nucleus.Order[0];
    }

    public static int ArgMax(float[] logits, int n)
    {
        int best = 0;
        for (int i = 1; i < n; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }
}
