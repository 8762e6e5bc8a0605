using NoirCode.Attack.Data;

namespace NoirCode.Attack.Metrics;

/// <summary>
/// How much of one private token sequence a reconstruction recovers, as the paper scores it (uni-gram, so the
/// order of tokens does not matter): overlap = Σ_t min(count in truth, count in guess);
/// CRT = overlap / |truth| (token recovery rate), BLEU-1 = 100 · overlap/|guess| · brevity penalty,
/// ROUGE-1 = F1 of overlap. The content variants count only non-template tokens on both sides
/// (<see cref="TokenClasses"/>). Position accuracy (guess i equals truth i) is the stricter, ordered measure.
/// </summary>
public sealed record ReconstructionScore(
    double Crt, double Bleu, double Rouge1, double ContentCrt, double ContentBleu, double ContentRouge1,
    double? PositionAccuracy, double? ContentPositionAccuracy, int Tokens, int ContentTokens)
{
    /// <summary>The paper's security game: the cloud wins if BLEU ≥ 20 or ROUGE-1 ≥ 0.4.</summary>
    public const double BleuThreshold = 20, RougeThreshold = 0.4;

    public bool Win => Bleu >= BleuThreshold || Rouge1 >= RougeThreshold;
    public bool ContentWin => ContentBleu >= BleuThreshold || ContentRouge1 >= RougeThreshold;

    /// <param name="ordered">false for a bag of tokens (no position accuracy)</param>
    public static ReconstructionScore Of(IReadOnlyList<int> truth, IReadOnlyList<int> guess, TokenClasses classes, bool ordered = true)
    {
        var (crt, bleu, rouge) = Unigram(truth, guess);
        var contentTruth = truth.Where(t => !classes.IsTemplate(t)).ToList();
        var contentGuess = guess.Where(t => !classes.IsTemplate(t)).ToList();
        var (ccrt, cbleu, crouge) = Unigram(contentTruth, contentGuess);
        double? pos = null, cpos = null;
        if (ordered)
        {
            if (guess.Count != truth.Count) throw new ArgumentException("an ordered guess needs one token per position");
            int hits = 0, chits = 0;
            for (int i = 0; i < truth.Count; i++)
                if (truth[i] == guess[i]) { hits++; if (!classes.IsTemplate(truth[i])) chits++; }
            pos = truth.Count == 0 ? 0 : (double)hits / truth.Count;
            cpos = contentTruth.Count == 0 ? 0 : (double)chits / contentTruth.Count;
        }
        return new ReconstructionScore(crt, bleu, rouge, ccrt, cbleu, crouge, pos, cpos, truth.Count, contentTruth.Count);
    }

    static (double Crt, double Bleu, double Rouge) Unigram(IReadOnlyList<int> truth, IReadOnlyList<int> guess)
    {
        if (truth.Count == 0 || guess.Count == 0) return (0, 0, 0);
        var counts = new Dictionary<int, int>();
        foreach (int t in truth) counts[t] = counts.GetValueOrDefault(t) + 1;
        int overlap = 0;
        foreach (int g in guess)
            if (counts.TryGetValue(g, out int left) && left > 0) { overlap++; counts[g] = left - 1; }
        double recall = (double)overlap / truth.Count, precision = (double)overlap / guess.Count;
        double brevity = guess.Count >= truth.Count ? 1 : Math.Exp(1 - (double)truth.Count / guess.Count);
        double f1 = overlap == 0 ? 0 : 2 * precision * recall / (precision + recall);
        return (recall, 100 * precision * brevity, f1);
    }
}
