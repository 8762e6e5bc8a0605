namespace NoirCode.Privacy;

/// <summary>
/// LTokenizer: a secret uniform permutation π of token ids. Token t lives at index π(t): its randomised
/// embedding is row π(t) of the client's table, its training label is π(t), and a sampled index i is read
/// back as token π⁻¹(i) before detokenising. Fixed per key.
/// </summary>
public sealed class LTokenizer : Core.Generation.IVocabularyMapping
{
    readonly int[] _forward, _inverse;

    public int Count => _forward.Length;
    public IReadOnlyList<int> Forward => _forward;

    public LTokenizer(int[] permutation)
    {
        _forward = (int[])permutation.Clone();
        _inverse = new int[_forward.Length];
        Array.Fill(_inverse, -1);
        for (int t = 0; t < _forward.Length; t++)
        {
            int i = _forward[t];
            if (i < 0 || i >= _forward.Length || _inverse[i] != -1) throw new ArgumentException("not a permutation");
            _inverse[i] = t;
        }
    }

    /// <summary>A uniformly random permutation (Fisher–Yates on a CSPRNG stream).</summary>
    public static LTokenizer Random(int count, CtrRandom rng)
    {
        var p = Enumerable.Range(0, count).ToArray();
        for (int i = count - 1; i > 0; i--)
        {
            int j = rng.NextInt(i + 1);
            (p[i], p[j]) = (p[j], p[i]);
        }
        return new LTokenizer(p);
    }

    public int ToIndex(int token) => _forward[token];
    public int ToToken(int index) => _inverse[index];

    /// <summary>Logits over indices → logits over tokens: token t scores what index π(t) scored.</summary>
    public float[] ToTokenLogits(float[] indexLogits)
    {
        var result = new float[indexLogits.Length];
        Array.Fill(result, float.NegativeInfinity);
        for (int t = 0; t < Count; t++) result[t] = indexLogits[_forward[t]];
        return result;
    }
}
