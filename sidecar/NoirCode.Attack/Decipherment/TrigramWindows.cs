namespace NoirCode.Attack.Decipherment;

/// <summary>
/// The stream's distinct trigram windows (the symbols at positions q−2, q−1, q, with <see cref="Bos"/> before a
/// sequence start), each with how often it occurs, and for each symbol the windows it appears in. The trigram
/// log-likelihood of a naming is Σ count × log P(window), and renaming a symbol changes only its own windows, so
/// the decipherer scores a change over distinct windows instead of over every occurrence: code repeats its
/// contexts (a newline after a colon, an indent after a newline), so the frequent symbols, which cost the most,
/// have far fewer windows than occurrences.
/// </summary>
public sealed class TrigramWindows
{
    /// <summary>The stand-in symbol for the context before a sequence start.</summary>
    public int Bos { get; }
    public int[] U { get; }
    public int[] V { get; }
    public int[] W { get; }
    public int[] Count { get; }
    /// <summary>Per symbol: the windows it appears in, each once.</summary>
    public int[][] OfSymbol { get; }
    public int Length => Count.Length;

    public TrigramWindows(CipherStream stream)
    {
        Bos = stream.SymbolCount;
        var index = new Dictionary<(int, int, int), int>();
        var u = new List<int>(); var v = new List<int>(); var w = new List<int>(); var count = new List<int>();
        for (int q = 0; q < stream.Length; q++)
        {
            int start = stream.SequenceStart[q];
            var key = (q - 2 >= start ? stream.Symbols[q - 2] : Bos, q - 1 >= start ? stream.Symbols[q - 1] : Bos, stream.Symbols[q]);
            if (index.TryGetValue(key, out int id)) { count[id]++; continue; }
            index[key] = u.Count;
            u.Add(key.Item1); v.Add(key.Item2); w.Add(key.Item3); count.Add(1);
        }
        U = u.ToArray(); V = v.ToArray(); W = w.ToArray(); Count = count.ToArray();
        var sizes = new int[stream.SymbolCount];
        ForEachSymbol((s, _) => sizes[s]++);
        OfSymbol = sizes.Select(n => new int[n]).ToArray();
        var fill = new int[stream.SymbolCount];
        ForEachSymbol((s, t) => OfSymbol[s][fill[s]++] = t);
    }

    /// <summary>Each (symbol, window) pair once: a window with a symbol twice (u = w) belongs to it once.</summary>
    void ForEachSymbol(Action<int, int> visit)
    {
        for (int t = 0; t < Count.Length; t++)
        {
            int a = U[t], b = V[t], c = W[t];
            if (a != Bos) visit(a, t);
            if (b != Bos && b != a) visit(b, t);
            if (c != a && c != b) visit(c, t);
        }
    }

    public bool Contains(int window, int symbol) => U[window] == symbol || V[window] == symbol || W[window] == symbol;
}
