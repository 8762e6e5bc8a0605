namespace NoirCode.Sidecar.Completion;

/// <summary>How a prompt is cut around the cursor (<see cref="PromptBuilder"/>).</summary>
/// <param name="Budget">tokens of prefix and suffix together; the three control tokens come on top</param>
/// <param name="SuffixShare">share of the budget the suffix may take; the prefix gets the rest</param>
/// <param name="HealLastToken">leave the prefix's last token out for the model to spell again (<see cref="TokenHealing"/>)</param>
public sealed record PromptShape(int Budget, double SuffixShare, FimOrder Order, bool HealLastToken)
{
    /// <summary>Inline completion's: what <paramref name="settings"/> allow within the model's positions, with room
    /// for the suggestion and the control tokens.</summary>
    public static PromptShape ForCompletion(CompletionSettings settings, int maxPositions) =>
        new(Math.Min(settings.MaxPromptTokens, maxPositions - settings.MaxNewTokens - 3), settings.SuffixShare, FimOrder.SuffixPrefixMiddle, settings.TokenHealing);
}
