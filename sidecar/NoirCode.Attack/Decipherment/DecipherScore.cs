using NoirCode.Attack.Data;

namespace NoirCode.Attack.Decipherment;

/// <summary>
/// How much of a private token stream a naming of its cipher symbols reads back, using the true tokens (the
/// measurement, never the attacker): position accuracy over all tokens and over content tokens (identifiers,
/// strings, numbers), and the share of distinct content tokens (identifiers) that the cloud reads at most of
/// their occurrences.
/// </summary>
public sealed record DecipherScore(long Tokens, double PositionAccuracy, double ContentPositionAccuracy, double DistinctIdentifiers,
    int DistinctIdentifiersRecovered, int DistinctIdentifiersSeen)
{
    /// <summary>Where the kept naming's search started ("fresh" or "continued" from a shorter prefix's naming); null
    /// where not recorded.</summary>
    public string? NamingFrom { get; init; }

    public static DecipherScore Of(IReadOnlyList<int[]> truth, IReadOnlyList<int[]> symbols, int[] naming, TokenClasses classes)
    {
        long tokens = 0, hits = 0, content = 0, contentHits = 0;
        var perToken = new Dictionary<int, (int Seen, int Read)>();
        for (int s = 0; s < truth.Count; s++)
            for (int i = 0; i < truth[s].Length; i++)
            {
                int t = truth[s][i], c = symbols[s][i];
                bool hit = c < naming.Length && naming[c] == t;
                tokens++;
                if (hit) hits++;
                if (classes.IsTemplate(t)) continue;
                content++;
                if (hit) contentHits++;
                var (seen, read) = perToken.GetValueOrDefault(t);
                perToken[t] = (seen + 1, read + (hit ? 1 : 0));
            }
        int recovered = perToken.Values.Count(x => 2 * x.Read > x.Seen);
        return new DecipherScore(tokens, tokens == 0 ? 0 : (double)hits / tokens, content == 0 ? 0 : (double)contentHits / content,
            perToken.Count == 0 ? 0 : (double)recovered / perToken.Count, recovered, perToken.Count);
    }
}
