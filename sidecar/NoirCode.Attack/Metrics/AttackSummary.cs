namespace NoirCode.Attack.Metrics;

/// <summary>Means over the private set of one attack's scores on one part (prompts x, or code y).</summary>
public sealed record PartSummary(
    double Crt, double Bleu, double Rouge1, double Asr,
    double ContentCrt, double ContentBleu, double ContentRouge1, double ContentAsr,
    double? PositionAccuracy, double? ContentPositionAccuracy, int Items)
{
    public static PartSummary Of(IReadOnlyList<ReconstructionScore> scores)
    {
        if (scores.Count == 0) return new PartSummary(0, 0, 0, 0, 0, 0, 0, 0, null, null, 0);
        double? Mean(Func<ReconstructionScore, double?> f) => scores.All(s => f(s) is null) ? null : scores.Average(s => f(s) ?? 0);
        return new PartSummary(
            scores.Average(s => s.Crt), scores.Average(s => s.Bleu), scores.Average(s => s.Rouge1), scores.Average(s => s.Win ? 1.0 : 0.0),
            scores.Average(s => s.ContentCrt), scores.Average(s => s.ContentBleu), scores.Average(s => s.ContentRouge1), scores.Average(s => s.ContentWin ? 1.0 : 0.0),
            Mean(s => s.PositionAccuracy), Mean(s => s.ContentPositionAccuracy), scores.Count);
    }
}

/// <summary>One attack against one client setting: prompts, code, and the leak of sensitive items.</summary>
/// <param name="Leak">share of items whose reconstruction contains at least one of their sensitive items</param>
/// <param name="LeakItems">share of all sensitive items recovered</param>
public sealed record AttackSummary(string Attack, string Description, PartSummary Prompt, PartSummary Code, double Leak, double LeakItems,
    string? Example = null);
