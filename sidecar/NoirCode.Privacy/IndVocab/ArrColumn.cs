namespace NoirCode.Privacy.IndVocab;

/// <summary>
/// Adaptive Randomized Response (NOIR, Eq. 2) for one feature column of the embedding table.
/// For token t with value a = e_t^i: keep a with probability p_t, otherwise replace it with e_k^i of another
/// token k ≠ t drawn with weight w_k = exp(−|a − e_k^i| / m). β_t sits at Theorem 1's upper bound
/// β_t = ε_i + ln(|V|−1) + ln(q_min), q_min = min_{k≠t} w_k / Σ_l w_l, so p_t = e^{ε_i}·q_min / (e^{ε_i}·q_min + 1).
///
/// Sampling is O(log |V|): values are sorted once, and w_k factors as exp(−a/m)·exp(v_k/m) left of a and
/// exp(a/m)·exp(−v_k/m) right of it, so prefix sums of exp(±v/m) give every partial sum (notes §2.6).
/// </summary>
public sealed class ArrColumn
{
    // Buffers are reused by Load, so one instance per thread serves every column of a large table.
    double[] _values = Array.Empty<double>();       // original column, by token id
    double[] _sorted = Array.Empty<double>();       // values ascending
    int[] _order = Array.Empty<int>();              // token id at each sorted position
    int[] _rank = Array.Empty<int>();               // sorted position of each token id
    double[] _leftPrefix = Array.Empty<double>();   // leftPrefix[j] = Σ_{s<j} exp((sorted[s] − shift)/m)
    double[] _rightSuffix = Array.Empty<double>();  // rightSuffix[j] = Σ_{s≥j} exp(−(sorted[s] − shift)/m)
    double[] _c = Array.Empty<double>(), _lnKeep = Array.Empty<double>(), _maxLeft = Array.Empty<double>(), _minLeft = Array.Empty<double>(); // WorstLogRatio's
    double _shift;
    readonly double _m, _epsilonI;

    public int Count => _values.Length;

    /// <param name="values">e_k^i for every token k</param>
    /// <param name="epsilonPerFeature">ε_i (the key's ε divided by the embedding size)</param>
    /// <param name="dimension">m, the embedding size, which scales distances in the weights</param>
    public ArrColumn(ReadOnlySpan<double> values, double epsilonPerFeature, int dimension)
    {
        _m = dimension;
        _epsilonI = epsilonPerFeature;
        Load(values);
    }

    /// <summary>Switches to another column of the same table, reusing the buffers.</summary>
    public void Load(ReadOnlySpan<double> values)
    {
        if (values.Length < 2) throw new ArgumentException("a vocabulary needs at least two tokens");
        int n = values.Length;
        if (_values.Length != n)
        {
            _values = new double[n]; _sorted = new double[n]; _order = new int[n]; _rank = new int[n];
            _leftPrefix = new double[n + 1]; _rightSuffix = new double[n + 1];
        }
        values.CopyTo(_values);
        values.CopyTo(_sorted);
        for (int i = 0; i < n; i++) _order[i] = i;
        Array.Sort(_sorted, _order);
        for (int s = 0; s < n; s++) _rank[_order[s]] = s;
        _shift = (_sorted[0] + _sorted[^1]) / 2; // keeps exp(±(v − shift)/m) within range
        for (int s = 0; s < n; s++) _leftPrefix[s + 1] = _leftPrefix[s] + Math.Exp((_sorted[s] - _shift) / _m);
        _rightSuffix[n] = 0;
        for (int s = n - 1; s >= 0; s--) _rightSuffix[s] = _rightSuffix[s + 1] + Math.Exp(-(_sorted[s] - _shift) / _m);
    }

    /// <summary>Σ_{k≠t} w_k, split into the tokens sorted before t and after t.</summary>
    (double Left, double Right) OtherWeights(int t)
    {
        int r = _rank[t];
        double a = _values[t] - _shift;
        return (Math.Exp(-a / _m) * _leftPrefix[r], Math.Exp(a / _m) * _rightSuffix[r + 1]);
    }

    public double Weight(int t, int k) => Math.Exp(-Math.Abs(_values[t] - _values[k]) / _m);

    /// <summary>q_min·Z = the weight of the farthest other token, an extreme of the column.</summary>
    double MinOtherWeight(int t)
    {
        double a = _values[t];
        double far = Math.Max(a - _sorted[0], _sorted[^1] - a);
        return Math.Exp(-far / _m);
    }

    public double KeepProbability(int t)
    {
        var (left, right) = OtherWeights(t);
        double qMin = MinOtherWeight(t) / (left + right + 1); // Z includes t's own weight exp(0) = 1
        return 1 / (1 + Math.Exp(-(_epsilonI + Math.Log(qMin)))); // e^{ε_i}q/(e^{ε_i}q+1) without overflow at large ε
    }

    /// <summary>Exact probability that token t's feature becomes token o's value (o = t: kept).</summary>
    public double Probability(int t, int o)
    {
        double keep = KeepProbability(t);
        if (o == t) return keep;
        var (left, right) = OtherWeights(t);
        return (1 - keep) * Weight(t, o) / (left + right);
    }

    /// <summary>Theorem 1 needs ε_i ≥ (Δ_max − Δ_min)/m for every token; this is the smallest ε_i that satisfies it.</summary>
    public double Theorem1MinEpsilonPerFeature()
    {
        double worst = 0;
        int n = _sorted.Length;
        for (int s = 0; s < n; s++)
        {
            double a = _sorted[s];
            double far = Math.Max(a - _sorted[0], _sorted[^1] - a);
            double near = Math.Min(s > 0 ? a - _sorted[s - 1] : double.PositiveInfinity, s < n - 1 ? _sorted[s + 1] - a : double.PositiveInfinity);
            worst = Math.Max(worst, (far - near) / _m);
        }
        return worst;
    }

    /// <summary>
    /// The exact privacy loss of this column as implemented: max over tokens t, t′ and outputs o of
    /// ln Pr[o | t] − ln Pr[o | t′]. Theorem 1's condition (<see cref="Theorem1MinEpsilonPerFeature"/>) does not
    /// bound it in every column (β_t differs per token, so the keep probabilities do too), hence keygen records
    /// this. O(|V|) on the sorted column: for t ≠ o, ln Pr[o | t] = c_t − |v_t − v_o|/m with
    /// c_t = ln(1 − p_t) − ln Σ_{k≠t} w_k, so the largest and smallest over t ≠ o are running maxima and minima
    /// from each side (a 1-D distance transform); t = o adds ln p_o. Equal values are treated as distinct outputs,
    /// which can only overstate the loss.
    /// </summary>
    public double WorstLogRatio()
    {
        int n = Count;
        if (_c.Length != n) { _c = new double[n]; _lnKeep = new double[n]; _maxLeft = new double[n]; _minLeft = new double[n]; }
        double[] c = _c, lnKeep = _lnKeep, maxLeft = _maxLeft, minLeft = _minLeft;
        for (int s = 0; s < n; s++)
        {
            int t = _order[s];
            var (left, right) = OtherWeights(t);
            double x = _epsilonI + Math.Log(MinOtherWeight(t) / (left + right + 1)); // p_t = σ(x)
            lnKeep[s] = -Softplus(-x);
            c[s] = -Softplus(x) - Math.Log(left + right);
        }
        double runMax = double.NegativeInfinity, runMin = double.PositiveInfinity;
        for (int s = 0; s < n; s++)
        {
            if (s > 0)
            {
                runMax = Math.Max(runMax, c[s - 1]) - (_sorted[s] - _sorted[s - 1]) / _m;
                runMin = Math.Min(runMin, c[s - 1] + _sorted[s - 1] / _m);
            }
            maxLeft[s] = runMax;
            minLeft[s] = runMin - _sorted[s] / _m;
        }
        runMax = double.NegativeInfinity; runMin = double.PositiveInfinity;
        double worst = 0;
        for (int s = n - 1; s >= 0; s--)
        {
            if (s < n - 1)
            {
                runMax = Math.Max(runMax, c[s + 1]) - (_sorted[s + 1] - _sorted[s]) / _m;
                runMin = Math.Min(runMin, c[s + 1] - _sorted[s + 1] / _m);
            }
            double hi = Math.Max(lnKeep[s], Math.Max(maxLeft[s], runMax));
            double lo = Math.Min(lnKeep[s], Math.Min(minLeft[s], runMin + _sorted[s] / _m));
            worst = Math.Max(worst, hi - lo);
        }
        return worst;
    }

    /// <summary>ln(1 + e^x) without overflow.</summary>
    static double Softplus(double x) => x > 0 ? x + Math.Log(1 + Math.Exp(-x)) : Math.Log(1 + Math.Exp(x));

    /// <summary>Draws the randomised feature of token t; returns the token whose value it takes (t when kept).</summary>
    public int Sample(int t, CtrRandom rng)
    {
        if (rng.NextDouble() < KeepProbability(t)) return t;
        var (left, right) = OtherWeights(t);
        int r = _rank[t];
        double u = rng.NextDouble() * (left + right);
        double a = _values[t] - _shift;
        if (u < left)
        {
            // Smallest j < r with exp(−a/m)·leftPrefix[j+1] > u.
            double target = u * Math.Exp(a / _m);
            int lo = 0, hi = r - 1;
            while (lo < hi) { int mid = (lo + hi) >> 1; if (_leftPrefix[mid + 1] > target) hi = mid; else lo = mid + 1; }
            return _order[lo];
        }
        else
        {
            // Smallest j > r with exp(a/m)·(rightSuffix[r+1] − rightSuffix[j+1]) > u − left.
            double target = _rightSuffix[r + 1] - (u - left) * Math.Exp(-a / _m);
            int lo = r + 1, hi = Count - 1;
            while (lo < hi) { int mid = (lo + hi) >> 1; if (_rightSuffix[mid + 1] < target) hi = mid; else lo = mid + 1; }
            return _order[lo];
        }
    }

    public double Value(int t) => _values[t];
}
