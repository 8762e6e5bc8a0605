using NoirCode.Attack.Attacks;
using NoirCode.Attack.Data;
using NoirCode.Attack.Metrics;
using NoirCode.Attack.Wire;
using NoirCode.Core.Util;
using static TorchSharp.torch;

namespace NoirCode.Attack.Evaluation;

/// <summary>The private set as token ids: prompt tokens then code tokens, sent as one sequence from position 0.</summary>
public sealed record PrivateSequence(PrivateDocument Document, int[] Tokens, int PromptTokens, IReadOnlySet<string> SensitiveItems)
{
    public static List<PrivateSequence> Tokenize(IEnumerable<PrivateDocument> docs, Core.Tokenization.CodeTokenizer tokenizer, int maxTokens) =>
        docs.Select(d =>
        {
            var prompt = tokenizer.Encode(d.Prompt).ToArray();
            var code = tokenizer.Encode(d.Code).ToArray();
            var all = prompt.Concat(code).Take(maxTokens).ToArray();
            return new PrivateSequence(d, all, Math.Min(prompt.Length, all.Length), Metrics.SensitiveItems.Of(d.Prompt + d.Code));
        }).Where(s => s.Tokens.Length >= 2).ToList();
}

/// <summary>Results of every attack against one client setting.</summary>
/// <param name="ClusterPurity">diagnostic with the true tokens: share of positions a perfect naming of the clusters recovers</param>
public sealed record SettingResult(string Setting, double? Epsilon, bool Tuned, bool Keys, IReadOnlyList<AttackSummary> Attacks,
    double? ClusterPurity, int Clusters, long Tokens)
{
    /// <summary>Diagnostic with the true tokens: share of positions in their token's largest cluster.</summary>
    public double? ClusterCompleteness { get; init; }
    /// <summary>The merge threshold the attacker's own simulation chose.</summary>
    public double? MergeThreshold { get; init; }
    /// <summary>Diagnostic: the solver's objective for the true naming and for the naming it found.</summary>
    public (double Truth, double Found)? SolverObjective { get; init; }
}

/// <summary>
/// Runs the attacks on one client setting: captures what the cloud receives for every private sequence, lets
/// each attack reconstruct the tokens, and scores prompts and code separately.
/// </summary>
public sealed class PrivacyEvaluation(AttackerKnowledge knowledge, IReadOnlyList<ICloudAttack> attacks, IProgressSink progress)
{
    public SettingResult Run(ClientUnderTest client, IReadOnlyList<PrivateSequence> sequences, double? epsilon, bool tuned)
    {
        var views = new List<Tensor>();
        for (int i = 0; i < sequences.Count; i++)
        {
            views.Add(client.CloudView(sequences[i].Tokens));
            progress.Report($"{client.Name}: capturing the wire", i + 1, sequences.Count);
        }
        progress.Done($"{client.Name}: capturing the wire");
        var truth = sequences.Select(s => s.Tokens).ToList();
        var results = new List<AttackSummary>();
        EncoderOutputClusters? clusters = null;
        foreach (var attack in attacks)
        {
            if (attack is ClusterFrequencyAttack cluster) cluster.Shared = clusters;
            var guesses = attack.Reconstruct(views);
            if (attack is ClusterFrequencyAttack fitted) clusters = fitted.LastClusters;
            results.Add(Score(attack, sequences, guesses));
            progress.Done($"{client.Name}: {attack.Name}");
        }
        foreach (var attack in attacks.OfType<ClusterFrequencyAttack>()) attack.Shared = null;
        (double, double)? objective = null;
        var solverAttack = attacks.OfType<ClusterFrequencyAttack>().LastOrDefault();
        if (clusters != null && solverAttack?.LastScore is { } scorer && solverAttack.LastNaming is { } found)
        {
            var truthNaming = new int[clusters.Count];
            for (int d = 0; d < truth.Count; d++) for (int i = 0; i < truth[d].Length; i++) truthNaming[clusters.Assignments[d][i]] = truth[d][i];
            objective = (scorer(truthNaming), scorer(found));
        }
        foreach (var v in views) v.Dispose();
        return new SettingResult(client.Name, epsilon, tuned, client.Keys != null, results, clusters?.Purity(truth), clusters?.Count ?? 0,
            sequences.Sum(s => (long)s.Tokens.Length))
        {
            ClusterCompleteness = clusters?.Completeness(truth), MergeThreshold = solverAttack?.Calibration?.Threshold,
            SolverObjective = objective,
        };
    }

    AttackSummary Score(ICloudAttack attack, IReadOnlyList<PrivateSequence> sequences, IReadOnlyList<int[]> guesses)
    {
        var baseline = attack as FrequencyGuessBaseline;
        var classes = knowledge.Classes;
        var prompt = new List<ReconstructionScore>();
        var code = new List<ReconstructionScore>();
        int leaked = 0, items = 0, recovered = 0;
        string? example = null;
        for (int i = 0; i < sequences.Count; i++)
        {
            var s = sequences[i];
            int np = s.PromptTokens;
            var truthPrompt = s.Tokens[..np];
            var truthCode = s.Tokens[np..];
            int[] guessPrompt, guessCode, full;
            if (baseline != null) { guessPrompt = baseline.Profile(np); guessCode = baseline.Profile(truthCode.Length); full = guessPrompt.Concat(guessCode).ToArray(); }
            else { full = guesses[i]; guessPrompt = full[..np]; guessCode = full[np..]; }
            bool ordered = baseline == null;
            prompt.Add(ReconstructionScore.Of(truthPrompt, guessPrompt, classes, ordered));
            if (truthCode.Length > 0) code.Add(ReconstructionScore.Of(truthCode, guessCode, classes, ordered));
            string text = knowledge.Tokenizer.Decode(full);
            int hit = SensitiveItems.Recovered(s.SensitiveItems, text);
            items += s.SensitiveItems.Count; recovered += hit;
            if (hit > 0) leaked++;
            if (i == 0) example = text.Length > 300 ? text[..300] : text;
        }
        return new AttackSummary(attack.Name, attack.Description, PartSummary.Of(prompt), PartSummary.Of(code),
            (double)leaked / sequences.Count, items == 0 ? 0 : (double)recovered / items, example);
    }
}
