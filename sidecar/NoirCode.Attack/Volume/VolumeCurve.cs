using System.Text.Json.Nodes;
using NoirCode.Attack.Decipherment;

namespace NoirCode.Attack.Volume;

/// <summary>
/// What the strongest inference attack reads of one setting's traffic as a function of how much of it the cloud
/// has seen under one key, and the volumes at which content recovery passes 3 %, 10 % and 50 %.
/// </summary>
public sealed record VolumeCurve(string Setting, double? Epsilon, bool Keys, bool Tuned, IReadOnlyList<DecipherScore> Points,
    int Clusters, double Threshold, double Purity, double Completeness, double Seconds)
{
    public static readonly double[] CompromiseLevels = { 0.03, 0.1, 0.5 };

    /// <summary>Lloyd iterations the attacker ran on its leader clusters (0: none; <see cref="Attacks.WireClustering"/>).</summary>
    public int RefineIterations { get; init; }
    /// <summary>Symbols per token the decipherer allowed (the mechanism's k, more when the clusters split tokens); null
    /// where not recorded (curves measured before it was).</summary>
    public int? SymbolsPerToken { get; init; }

    /// <summary>The observed volume at which content position accuracy first reaches <paramref name="level"/>,
    /// interpolated linearly in log(tokens) between measured points; null if no measured volume reaches it.</summary>
    public static long? TokensToCompromise(IReadOnlyList<DecipherScore> points, double level)
    {
        for (int i = 0; i < points.Count; i++)
        {
            if (points[i].ContentPositionAccuracy < level) continue;
            if (i == 0) return points[0].Tokens;
            var (a, b) = (points[i - 1], points[i]);
            double f = (level - a.ContentPositionAccuracy) / Math.Max(1e-12, b.ContentPositionAccuracy - a.ContentPositionAccuracy);
            return (long)Math.Round(Math.Exp(Math.Log(a.Tokens) + f * (Math.Log(b.Tokens) - Math.Log(a.Tokens))));
        }
        return null;
    }

    public static JsonArray PointsJson(IReadOnlyList<DecipherScore> points) => new(points.Select(p => (JsonNode)PointJson(p)).ToArray());

    static JsonObject PointJson(DecipherScore p)
    {
        var o = new JsonObject
        {
            ["tokens"] = p.Tokens,
            ["position_accuracy"] = Math.Round(p.PositionAccuracy, 4),
            ["content_position_accuracy"] = Math.Round(p.ContentPositionAccuracy, 4),
            ["distinct_identifiers"] = double.IsNaN(p.DistinctIdentifiers) ? null : Math.Round(p.DistinctIdentifiers, 4),
            ["distinct_identifiers_recovered"] = p.DistinctIdentifiersRecovered,
            ["distinct_identifiers_seen"] = p.DistinctIdentifiersSeen,
        };
        if (p.NamingFrom is not null) o["naming_from"] = p.NamingFrom;
        return o;
    }

    /// <summary>Reads points back; a point without the identifier figures (not recorded) reads them as NaN and 0.</summary>
    public static List<DecipherScore> PointsFrom(JsonArray array) => array.Select(n => new DecipherScore(
        (long)n!["tokens"]!, (double)n["position_accuracy"]!, (double)n["content_position_accuracy"]!, (double?)n["distinct_identifiers"] ?? double.NaN,
        (int?)n["distinct_identifiers_recovered"] ?? 0, (int?)n["distinct_identifiers_seen"] ?? 0)
    { NamingFrom = (string?)n["naming_from"] }).ToList();

    public static JsonObject CompromiseJson(IReadOnlyList<DecipherScore> points)
    {
        var o = new JsonObject();
        foreach (double level in CompromiseLevels) o[level.ToString(System.Globalization.CultureInfo.InvariantCulture)] = TokensToCompromise(points, level);
        return o;
    }

    public JsonObject ToJson() => new()
    {
        ["setting"] = Setting, ["epsilon"] = Epsilon, ["keys"] = Keys, ["tuned"] = Tuned,
        ["volume"] = PointsJson(Points), ["tokens_to_compromise"] = CompromiseJson(Points),
        ["clusters"] = Clusters, ["cluster_threshold"] = double.IsNaN(Threshold) ? null : Math.Round(Threshold, 3), // none: an oracle's symbols
        ["cluster_purity"] = Math.Round(Purity, 4), ["cluster_completeness"] = Math.Round(Completeness, 4), ["seconds"] = Math.Round(Seconds, 1),
        ["cluster_refinement"] = RefineIterations, ["symbols_per_token"] = SymbolsPerToken, // null: not recorded
    };

    public static VolumeCurve FromJson(JsonObject o) => new((string)o["setting"]!, (double?)o["epsilon"], (bool)o["keys"]!, (bool)o["tuned"]!,
        PointsFrom(o["volume"]!.AsArray()), (int)o["clusters"]!, (double?)o["cluster_threshold"] ?? double.NaN, (double)o["cluster_purity"]!,
        (double)o["cluster_completeness"]!, (double)o["seconds"]!)
    { RefineIterations = (int?)o["cluster_refinement"] ?? 0, SymbolsPerToken = (int?)o["symbols_per_token"] };
}
