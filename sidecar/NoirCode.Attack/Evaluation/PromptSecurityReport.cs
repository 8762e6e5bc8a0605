using NoirCode.Attack.Attacks;
using NoirCode.Attack.Data;
using NoirCode.Attack.Metrics;
using NoirCode.Attack.Wire;

namespace NoirCode.Attack.Evaluation;

/// <summary>What one attack recovered from one prompt, for the client's security report.</summary>
public sealed record PromptAttackOutcome(string Attack, string Reconstruction, ReconstructionScore Score, int SensitiveItems, int SensitiveRecovered);

/// <summary>
/// The fast per-prompt variant (the paper's client-side security report): the per-sequence attacks (inversion
/// by nearest neighbour and code reconstruction) run on what the cloud would receive for one prompt, with the
/// reconstructed text and its scores. Cross-prompt attacks need the cloud's whole log and are in the full report.
/// Nothing is written anywhere: the caller shows the result to the developer.
/// </summary>
public sealed class PromptSecurityReport(AttackerKnowledge knowledge)
{
    readonly ICloudAttack[] _attacks = { new NearestNeighbourInversion(knowledge), new CodeReconstruction(knowledge) };

    public IReadOnlyList<PromptAttackOutcome> Run(ClientUnderTest client, string prompt, int maxTokens = 1024)
    {
        var tokens = knowledge.Tokenizer.Encode(prompt).Take(maxTokens).ToArray();
        if (tokens.Length == 0) throw new ArgumentException("the prompt is empty");
        using var view = client.CloudView(tokens);
        var items = SensitiveItems.Of(prompt);
        return _attacks.Select(a =>
        {
            var guess = a.Reconstruct(new[] { view })[0];
            string text = knowledge.Tokenizer.Decode(guess);
            return new PromptAttackOutcome(a.Name, text, ReconstructionScore.Of(tokens, guess, knowledge.Classes), items.Count, SensitiveItems.Recovered(items, text));
        }).ToList();
    }
}
