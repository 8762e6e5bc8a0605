namespace NoirCode.Privacy.Ledger;

/// <summary>
/// The bounds NOIR states for a key's ε, computed stably in log space, with a plain reading of each. They assume
/// a uniform prior over the vocabulary and one observation per token; code is neither (the cloud knows which tokens
/// are likely, and sees the same token's row again and again under one key), so they are shown after the measured
/// curve (<see cref="MeasuredBudget"/>) and never as a guarantee.
/// </summary>
public static class ExposureBounds
{
    /// <summary>What every bound below assumes, said wherever one is shown.</summary>
    public const string Assumption = "these bounds assume a uniform prior over the vocabulary and a single observation of each token; " +
        "real code has a skewed prior and under one key each token arrives as the same row every time, so they are not guarantees: the measured curve is what holds";

    /// <summary>
    /// ε-IND per token: the cloud's chance of naming a token from its randomised embedding is at most
    /// e^ε / (e^ε + |V| − 1). Meaningful only while ε is below about ln |V|.
    /// </summary>
    public static double PerTokenGuess(double epsilon, int vocabSize) => 1 / (1 + (vocabSize - 1) * Math.Exp(-epsilon));

    /// <summary>
    /// The paper's prompt-level bound (Eq. 4) on reconstructing at least a fraction ρ of an |x|-token prompt:
    /// ((ψe^ε+1)/(ψe^ε+ψ²))^{ρ|x|} · (ψe^ε/(ψe^ε+1))^{(1−ρ)|x|}, ψ = |V| − 1. Eq. 4 has no binomial factor and
    /// is taken as the paper states it (notes §2.5).
    /// </summary>
    public static double PromptReconstruction(double epsilon, int vocabSize, int promptTokens, double rho = 0.4)
    {
        double psi = vocabSize - 1, e = Math.Exp(-epsilon);
        double logFirst = double.LogP1(e / psi) - double.LogP1(psi * e);   // ln((ψe^ε+1)/(ψe^ε+ψ²))
        double logSecond = -double.LogP1(e / psi);                         // ln(ψe^ε/(ψe^ε+1))
        return Math.Exp(rho * promptTokens * logFirst + (1 - rho) * promptTokens * logSecond);
    }

    /// <summary>A bound this close to 1 says nothing: the guarantee then rests on the measured attacks alone.</summary>
    public static bool IsVacuous(double bound) => bound >= 0.5;

    public static string Describe(double epsilon, int vocabSize, int promptTokens = 200)
    {
        double token = PerTokenGuess(epsilon, vocabSize), prompt = PromptReconstruction(epsilon, vocabSize, promptTokens);
        string tokenText = token >= 0.5
            ? $"per token: a guess from one embedding can be right with probability up to {token:G3}, so the token-level bound gives little protection at this ε (it is meaningful below ε ≈ ln|V| = {Math.Log(vocabSize):F1})"
            : $"per token: a guess from one embedding is right with probability at most {token:G2}";
        string promptText = IsVacuous(prompt)
            ? $"prompt level (Eq. 4, {promptTokens} tokens, 40% recovered): vacuous ({prompt:G2}); protection rests on the measured attacks, not on this bound"
            : $"prompt level (Eq. 4, {promptTokens} tokens, 40% recovered): at most {prompt:G2}";
        return "assuming a uniform prior over the vocabulary (not a guarantee for real code): " + tokenText + "; " + promptText;
    }
}
