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

    /// <summary>Attacks <paramref name="prompt"/> as plain text, its first <paramref name="maxTokens"/> tokens (noir attack prompt).</summary>
    public IReadOnlyList<PromptAttackOutcome> Run(ClientUnderTest client, string prompt, int maxTokens = 1024) =>
        Run(client, knowledge.Tokenizer.Encode(prompt).Take(maxTokens).ToArray(), prompt);

    /// <summary>Attacks the ids as they are sent (a completion's prompt, control tokens included).</summary>
    /// <param name="text">the text the ids cover: where the report looks for secrets the attacks recover</param>
    public IReadOnlyList<PromptAttackOutcome> Run(ClientUnderTest client, IReadOnlyList<int> ids, string text)
    {
        var tokens = ids.ToArray();
        if (tokens.Length == 0) throw new ArgumentException("the prompt is empty");
        using var view = client.CloudView(tokens);
        var items = SensitiveItems.Of(text);
        return _attacks.Select(a =>
        {
            var guess = a.Reconstruct(new[] { view })[0];
            string reconstruction = knowledge.Tokenizer.Decode(guess);
            return new PromptAttackOutcome(a.Name, reconstruction, ReconstructionScore.Of(tokens, guess, knowledge.Classes), items.Count, SensitiveItems.Recovered(items, reconstruction));
        }).ToList();
    }
}
