using System.Text.Json.Nodes;
using NoirCode.Attack.Data;
using NoirCode.Attack.Decipherment;
using NoirCode.Core.Util;

namespace NoirCode.Attack.Volume;

/// <summary>One cipher stream deciphered at growing volumes, as the cloud sees it grow (the volume curve's points).</summary>
public static class PrefixDecipherment
{
    /// <summary>Deciphers each prefix of the stream as a cloud that had seen that much would. A cloud that followed the
    /// traffic also holds the naming it found on the shorter prefix: it solves afresh, continues from that naming (new
    /// symbols taking the fresh names), and keeps the naming that explains the stream better (trigram likelihood, no
    /// truth needed; <see cref="NamingStart"/>). Alone, continuing lost at small volumes (early, mostly wrong names held
    /// the search back: 0.3 % against 8.8 % at 30k tokens on the oracle) and a fresh solve at large ones (the k = 1
    /// oracle read 26 % of content at 10^6 tokens in 10 sweeps against 71 % at 3 × 10^5). Each point is kept in the
    /// work folder as it is measured (its scores, and the naming the next volume continues from: cluster ids to
    /// tokens, no code), so a run stopped during the largest volume keeps the smaller ones.</summary>
    /// <param name="symbolsAt">the cipher symbols the cloud has at a volume (a prefix of one stream, or a clustering of that prefix)</param>
    public static List<DecipherScore> Curve(long[] volumes, IReadOnlyList<int[]> truth, Func<long, IReadOnlyList<int[]>> symbolsAt, SubstitutionDecipherer decipherer,
        TokenClasses classes, IProgressSink progress, string name, string workFolder, NamingStart start)
    {
        string partial = Path.Combine(workFolder, $"{name}-points.json");
        string namingFile = Path.Combine(workFolder, $"{name}-naming.json");
        var done = File.Exists(partial) ? VolumeCurve.PointsFrom(JsonNode.Parse(File.ReadAllText(partial))!.AsArray()) : new List<DecipherScore>();
        (long Tokens, int[] Naming)? previous = File.Exists(namingFile) && JsonNode.Parse(File.ReadAllText(namingFile)) is JsonObject saved
            ? ((long)saved["tokens"]!, saved["naming"]!.AsArray().Select(n => (int)n!).ToArray()) : null;
        var points = new List<DecipherScore>();
        foreach (long volume in volumes.Order())
        {
            var truthPrefix = CipherStream.Prefix(truth, volume);
            long tokens = truthPrefix.Sum(s => (long)s.Length);
            if (done.FirstOrDefault(p => p.Tokens == tokens) is { } kept) { points.Add(kept); continue; }
            var prefix = symbolsAt(volume);
            var stream = new CipherStream(prefix);
            bool canContinue = start != NamingStart.Fresh && previous is { } p0 && p0.Tokens < tokens;
            int[]? naming = null;
            double likelihood = double.NegativeInfinity;
            string from = "fresh";
            if (!canContinue || start == NamingStart.Best) { naming = decipherer.Solve(stream); likelihood = decipherer.LastLogLikelihood; }
            if (canContinue)
            {
                var continued = decipherer.Solve(stream, decipherer.Continued(stream, previous!.Value.Naming, naming));
                progress.Report($"{name}: deciphering by volume", points.Count, volumes.Length, naming is null
                    ? $"{volume} tokens: log-likelihood continued {decipherer.LastLogLikelihood:F0}"
                    : $"{volume} tokens: log-likelihood fresh {likelihood:F0}, continued {decipherer.LastLogLikelihood:F0}");
                if (decipherer.LastLogLikelihood > likelihood) { naming = continued; from = "continued"; }
            }
            var score = DecipherScore.Of(truthPrefix, prefix, naming!, classes) with { NamingFrom = from };
            points.Add(score);
            WriteAtomically(partial, VolumeCurve.PointsJson(points.Concat(done.Where(d => points.All(p => p.Tokens != d.Tokens))).OrderBy(p => p.Tokens).ToList()).ToJsonString());
            // The naming of the largest volume so far is the one later volumes continue from (a volume added on resume
            // below it does not replace it).
            if (previous is not { } p1 || p1.Tokens < tokens)
            {
                WriteAtomically(namingFile, new JsonObject { ["tokens"] = tokens, ["naming"] = new JsonArray(naming!.Select(t => (JsonNode)t).ToArray()) }.ToJsonString());
                previous = (tokens, naming!);
            }
            progress.Report($"{name}: deciphering by volume", points.Count, volumes.Length,
                $"{volume} tokens ({from} naming): {score.PositionAccuracy:P1} of positions, {score.ContentPositionAccuracy:P1} of content");
        }
        progress.Done($"{name}: deciphering by volume");
        return points;
    }

    internal static void WriteAtomically(string path, string text)
    {
        File.WriteAllText(path + ".tmp", text);
        File.Move(path + ".tmp", path, overwrite: true);
    }
}
