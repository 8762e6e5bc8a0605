namespace NoirCode.Testing.Quality;

/// <summary>How close a suggestion is to the code that was there (the quality benchmark's edit similarity).</summary>
public static class TextSimilarity
{
    /// <summary>1 − Levenshtein distance ÷ the longer length, on first lines (an empty answer scores 0).</summary>
    public static double Edit(string a, string b)
    {
        if (a.Length == 0 && b.Length == 0) return 1;
        var d = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) d[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            int prev = d[0]; d[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int cur = d[j];
                d[j] = Math.Min(Math.Min(d[j] + 1, d[j - 1] + 1), prev + (a[i - 1] == b[j - 1] ? 0 : 1));
                prev = cur;
            }
        }
        return 1 - (double)d[b.Length] / Math.Max(a.Length, b.Length);
    }
}
