using NoirCode.Core.Generation;

namespace NoirCode.Privacy;

/// <summary>
/// Homophonic INDVocab's mapping: token t has k embedding rows, π(t) + j·V for j &lt; k, and each occurrence is sent
/// from one of them picked uniformly from a CSPRNG stream whose key never leaves this object, so the same token stops
/// arriving at the cloud as the same symbol. The head still predicts π(t) (LTokenizer), so outputs are unchanged.
/// </summary>
public sealed class HomophonicVocabulary : IVocabularyMapping, IDisposable
{
    readonly LTokenizer _permutation;
    readonly CtrRandom _choice = new(CtrRandom.NewKey());
    readonly object _lock = new();

    public int Homophones { get; }

    public HomophonicVocabulary(LTokenizer permutation, int homophones)
    {
        if (homophones < 2) throw new ArgumentOutOfRangeException(nameof(homophones), "a homophonic vocabulary has at least two rows per token");
        _permutation = permutation; Homophones = homophones;
    }

    public int ToIndex(int token) => _permutation.ToIndex(token);

    public int ToInputIndex(int token)
    {
        int j;
        lock (_lock) j = _choice.NextInt(Homophones);
        return _permutation.ToIndex(token) + j * _permutation.Count;
    }

    public float[] ToTokenLogits(float[] indexLogits) => _permutation.ToTokenLogits(indexLogits);

    public void Dispose() => _choice.Dispose();
}
