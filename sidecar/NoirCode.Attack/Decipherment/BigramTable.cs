using System.Numerics;
using System.Runtime.CompilerServices;

namespace NoirCode.Attack.Decipherment;

/// <summary>
/// The bigram model as dense rows over the whole vocabulary, log P(w | v) by v and by w, in flat float arrays: the
/// decipherer's first naming and proposals add such rows into per-symbol score rows thousands of times per sweep,
/// which is memory-bound work that plain SIMD loops do without a native call or a temporary per step. Built once
/// per model and shared by every decipherer of it.
/// </summary>
public sealed class BigramTable
{
    static readonly ConditionalWeakTable<KneserNeyTrigram, BigramTable> Cache = new();

    public int Vocab { get; }
    /// <summary>[v * Vocab + w] = log P(w | v).</summary>
    public float[] ByPrevious { get; }
    /// <summary>[w * Vocab + v] = log P(w | v): the same table transposed, so a fixed next token is one row.</summary>
    public float[] ByNext { get; }
    /// <summary>log of each token's public frequency.</summary>
    public float[] LogFrequency { get; }

    BigramTable(KneserNeyTrigram lm)
    {
        int v = Vocab = lm.VocabSize;
        var byPrevious = new float[(long)v * v];
        var byNext = new float[(long)v * v];
        Parallel.For(0, v, a =>
        {
            for (int b = 0; b < v; b++)
            {
                float x = (float)Math.Log(lm.Bigram(a, b));
                byPrevious[(long)a * v + b] = x;
                byNext[(long)b * v + a] = x;
            }
        });
        ByPrevious = byPrevious; ByNext = byNext;
        LogFrequency = Enumerable.Range(0, v).Select(t => (float)Math.Log(lm.Frequency(t))).ToArray();
    }

    public static BigramTable Of(KneserNeyTrigram lm) => Cache.GetValue(lm, m => new BigramTable(m));

    public ReadOnlySpan<float> Previous(int v) => ByPrevious.AsSpan((int)((long)v * Vocab), Vocab);
    public ReadOnlySpan<float> Next(int w) => ByNext.AsSpan((int)((long)w * Vocab), Vocab);

    /// <summary>target += scale × (row − offset), element by element.</summary>
    public static void AddScaled(Span<float> target, ReadOnlySpan<float> row, float scale, float offset = 0)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var s = new Vector<float>(scale);
            var o = new Vector<float>(offset);
            for (; i <= target.Length - Vector<float>.Count; i += Vector<float>.Count)
                (new Vector<float>(target.Slice(i)) + s * (new Vector<float>(row.Slice(i)) - o)).CopyTo(target.Slice(i));
        }
        for (; i < target.Length; i++) target[i] += scale * (row[i] - offset);
    }

    /// <summary>target += scale × (row − offset[j]) for each element j.</summary>
    public static void AddScaled(Span<float> target, ReadOnlySpan<float> row, float scale, ReadOnlySpan<float> offset)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var s = new Vector<float>(scale);
            for (; i <= target.Length - Vector<float>.Count; i += Vector<float>.Count)
                (new Vector<float>(target.Slice(i)) + s * (new Vector<float>(row.Slice(i)) - new Vector<float>(offset.Slice(i)))).CopyTo(target.Slice(i));
        }
        for (; i < target.Length; i++) target[i] += scale * (row[i] - offset[i]);
    }

    /// <summary>The indices of the <paramref name="k"/> largest values, largest first (ties: the lower index first).</summary>
    public static int[] Top(ReadOnlySpan<float> values, int k)
    {
        k = Math.Min(k, values.Length);
        var best = new int[k];
        var bestValue = new float[k];
        int filled = 0;
        for (int i = 0; i < values.Length; i++)
        {
            float x = values[i];
            if (filled == k && !(x > bestValue[k - 1])) continue;
            int j = filled < k ? filled++ : k - 1;
            while (j > 0 && x > bestValue[j - 1]) { best[j] = best[j - 1]; bestValue[j] = bestValue[j - 1]; j--; }
            best[j] = i; bestValue[j] = x;
        }
        return best;
    }
}
