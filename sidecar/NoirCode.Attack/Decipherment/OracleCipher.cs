namespace NoirCode.Attack.Decipherment;

/// <summary>
/// The decipherer's proof of strength: held-out code whose token ids are replaced by a random substitution the
/// attacker made itself (no model involved). What it recovers here is an upper bound the model-side attacks can
/// only approach, and a floor on what a fixed substitution hides.
/// </summary>
public static class OracleCipher
{
    /// <summary>A random permutation of the vocabulary (Fisher–Yates).</summary>
    public static int[] RandomKey(int vocab, int seed)
    {
        var key = Enumerable.Range(0, vocab).ToArray();
        var rng = new Random(seed);
        for (int i = vocab - 1; i > 0; i--) { int j = rng.Next(i + 1); (key[i], key[j]) = (key[j], key[i]); }
        return key;
    }

    public static List<int[]> Encipher(IEnumerable<int[]> sequences, int[] key) => sequences.Select(s => s.Select(t => key[t]).ToArray()).ToList();

    /// <summary>
    /// The homophonic cipher a k-table INDVocab would make if the cloud clustered each table's rows apart: each
    /// occurrence of token t becomes one of its k symbols, picked uniformly. Symbols are numbered by first appearance,
    /// as the cloud's clusters are, so a prefix of the stream uses only the symbols it has seen.
    /// </summary>
    public static List<int[]> EncipherHomophonic(IEnumerable<int[]> sequences, int[] key, int homophones, int seed)
    {
        if (homophones < 1) throw new ArgumentOutOfRangeException(nameof(homophones), "at least one symbol per token");
        var rng = new Random(seed);
        var number = new Dictionary<long, int>();
        return sequences.Select(s => s.Select(t =>
        {
            long symbol = key[t] + (long)key.Length * rng.Next(homophones);
            if (!number.TryGetValue(symbol, out int id)) number[symbol] = id = number.Count;
            return id;
        }).ToArray()).ToList();
    }
}
