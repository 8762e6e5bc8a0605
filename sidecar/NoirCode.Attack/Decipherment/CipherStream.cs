namespace NoirCode.Attack.Decipherment;

/// <summary>
/// What the cloud has to decipher: sequences of cipher symbols (cluster ids, or label indices recovered from
/// gradients), flattened, with each position's sequence start so that n-gram contexts never cross a boundary.
/// </summary>
public sealed class CipherStream
{
    public int[] Symbols { get; }
    /// <summary>Index of the first position of the sequence each position belongs to.</summary>
    public int[] SequenceStart { get; }
    public int SymbolCount { get; }
    /// <summary>Positions of each symbol, in order.</summary>
    public int[][] Occurrences { get; }
    public int Length => Symbols.Length;

    public CipherStream(IEnumerable<int[]> sequences)
    {
        var symbols = new List<int>();
        var starts = new List<int>();
        foreach (var seq in sequences)
        {
            int start = symbols.Count;
            foreach (int s in seq)
            {
                if (s < 0) throw new ArgumentException("cipher symbols are non-negative");
                symbols.Add(s); starts.Add(start);
            }
        }
        Symbols = symbols.ToArray();
        SequenceStart = starts.ToArray();
        SymbolCount = Symbols.Length == 0 ? 0 : Symbols.Max() + 1;
        var counts = new int[SymbolCount];
        foreach (int s in Symbols) counts[s]++;
        Occurrences = counts.Select(c => new int[c]).ToArray();
        var fill = new int[SymbolCount];
        for (int q = 0; q < Symbols.Length; q++) Occurrences[Symbols[q]][fill[Symbols[q]]++] = q;
    }

    /// <summary>The first <paramref name="tokens"/> positions (whole sequences and the start of the one cut): what the cloud had seen at that volume.</summary>
    public static IReadOnlyList<int[]> Prefix(IReadOnlyList<int[]> sequences, long tokens)
    {
        var result = new List<int[]>();
        long left = tokens;
        foreach (var seq in sequences)
        {
            if (left <= 0) break;
            result.Add(seq.Length <= left ? seq : seq[..(int)left]);
            left -= seq.Length;
        }
        return result;
    }
}
