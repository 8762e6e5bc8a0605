namespace NoirCode.Attack.Data;

/// <summary>Unigram and bigram counts of public code: what frequency analysis matches against.</summary>
public sealed class TokenStatistics
{
    public long[] Unigrams { get; }
    public Dictionary<long, long> Bigrams { get; } = new();
    public long Total { get; private set; }
    public int VocabSize { get; }

    public TokenStatistics(IEnumerable<int[]> documents, int vocabSize)
    {
        VocabSize = vocabSize;
        Unigrams = new long[vocabSize];
        foreach (var doc in documents)
            for (int i = 0; i < doc.Length; i++)
            {
                Unigrams[doc[i]]++;
                Total++;
                if (i > 0) Bigrams[Key(doc[i - 1], doc[i])] = Bigrams.GetValueOrDefault(Key(doc[i - 1], doc[i])) + 1;
            }
    }

    public long Key(int a, int b) => (long)a * VocabSize + b;

    /// <summary>Token ids by decreasing public frequency (ties by id), only tokens seen at least once.</summary>
    public int[] ByFrequency() => Enumerable.Range(0, VocabSize).Where(t => Unigrams[t] > 0)
        .OrderByDescending(t => Unigrams[t]).ThenBy(t => t).ToArray();

    /// <summary>How many distinct tokens a public stream of <paramref name="length"/> tokens has, measured on a
    /// prefix of the public documents: the attacker's estimate of how many clusters to look for.</summary>
    public static int DistinctIn(IEnumerable<int[]> documents, long length)
    {
        var seen = new HashSet<int>();
        long n = 0;
        foreach (var doc in documents)
            foreach (int t in doc)
            {
                if (n++ >= length) return seen.Count;
                seen.Add(t);
            }
        return seen.Count;
    }
}
