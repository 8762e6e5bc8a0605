using static TorchSharp.torch;

namespace NoirCode.Attack.Attacks;

/// <summary>
/// The floor every attack is compared with: guessing from public token frequencies alone, without looking at
/// the traffic beyond its length. Each sequence of n tokens is guessed as its expected public profile (the
/// n·p_t most frequent public tokens, largest remainders rounded up). Its scores are unordered (a bag).
/// </summary>
public sealed class FrequencyGuessBaseline(AttackerKnowledge k) : ICloudAttack
{
    public string Name => "frequency-guess";
    public string Description => "no attack: each sequence guessed as the public token-frequency profile of its length";

    public IReadOnlyList<int[]> Reconstruct(IReadOnlyList<Tensor> views) => views.Select(v => Profile((int)v.shape[0])).ToList();

    public int[] Profile(int n)
    {
        var stats = k.Statistics;
        var top = stats.ByFrequency().Take(Math.Max(n, 1)).ToArray();
        var share = top.Select(t => (double)stats.Unigrams[t] / stats.Total * n).ToArray();
        var counts = share.Select(s => (int)Math.Floor(s)).ToArray();
        int left = n - counts.Sum();
        foreach (int i in Enumerable.Range(0, top.Length).OrderByDescending(i => share[i] - counts[i]).Take(Math.Max(0, left))) counts[i]++;
        return top.SelectMany((t, i) => Enumerable.Repeat(t, counts[i])).Take(n).ToArray();
    }
}
