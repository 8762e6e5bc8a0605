namespace NoirCode.Core.Generation;

/// <summary>
/// Guesses the next tokens without the model (prompt lookup, as llama.cpp's lookup decoding and vLLM's n-gram
/// speculation do): find the last few tokens earlier in the sequence, or in other text the caller knows (recent
/// suggestions), and propose what followed them there. Code repeats itself, so the guess is often right; a
/// wrong guess costs only the positions verified in vain.
/// </summary>
public sealed class PromptLookupDrafter
{
    readonly int _maxNgram, _minNgram;
    readonly IReadOnlyList<IReadOnlyList<int>> _elsewhere;

    /// <param name="maxNgram">the longest run of last tokens to look up (longer matches predict better)</param>
    /// <param name="minNgram">the shortest run that may still propose a draft</param>
    /// <param name="elsewhere">other token sequences to search after the sequence itself, most relevant first</param>
    public PromptLookupDrafter(int maxNgram = 3, int minNgram = 1, IReadOnlyList<IReadOnlyList<int>>? elsewhere = null)
    {
        if (minNgram < 1 || maxNgram < minNgram) throw new ArgumentOutOfRangeException(nameof(minNgram), "need 1 ≤ min n-gram ≤ max n-gram");
        _maxNgram = maxNgram; _minNgram = minNgram;
        _elsewhere = elsewhere ?? Array.Empty<IReadOnlyList<int>>();
    }

    /// <summary>Up to <paramref name="most"/> tokens that may follow <paramref name="sequence"/>; empty when nothing matches.</summary>
    public IReadOnlyList<int> Draft(IReadOnlyList<int> sequence, int most)
    {
        if (most <= 0) return Array.Empty<int>();
        for (int n = Math.Min(_maxNgram, sequence.Count); n >= _minNgram; n--)
        {
            // The most recent earlier occurrence first: nearby code predicts best.
            if (Continuation(sequence, sequence, n, sequence.Count - n - 1, most) is { } own) return own;
            foreach (var other in _elsewhere)
                if (Continuation(sequence, other, n, other.Count - n - 1, most) is { } found) return found;
        }
        return Array.Empty<int>();
    }

    /// <summary>What follows the latest match, at or before <paramref name="lastStart"/> in <paramref name="source"/>,
    /// of the last <paramref name="n"/> tokens of <paramref name="sequence"/>.</summary>
    static IReadOnlyList<int>? Continuation(IReadOnlyList<int> sequence, IReadOnlyList<int> source, int n, int lastStart, int most)
    {
        int tail = sequence.Count - n;
        for (int start = Math.Min(lastStart, source.Count - n - 1); start >= 0; start--)
        {
            int k = 0;
            while (k < n && source[start + k] == sequence[tail + k]) k++;
            if (k < n) continue;
            int from = start + n, count = Math.Min(most, source.Count - from);
            var draft = new int[count];
            for (int i = 0; i < count; i++) draft[i] = source[from + i];
            return draft;
        }
        return null;
    }
}
