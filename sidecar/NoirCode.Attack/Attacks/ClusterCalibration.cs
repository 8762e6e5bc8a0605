using NoirCode.Attack.Data;
using NoirCode.Attack.Wire;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Core.Util;
using NoirCode.Privacy.Keys;
using static TorchSharp.torch;

namespace NoirCode.Attack.Attacks;

/// <summary>
/// The attacker tunes its clustering on a simulation it can run itself: INDVocab and LTokenizer are public
/// mechanisms and only the keys are secret, so it makes keys of its own for the public model, sends public code
/// through the public encoder under them, and picks the merge threshold whose clusters best match the tokens it
/// knows there (harmonic mean of purity and completeness). ε hardly changes the table (docs/privacy.md §2), so
/// one simulated ε stands for all.
/// </summary>
public static class ClusterCalibration
{
    public static readonly double?[] Thresholds = { null, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95 };

    public sealed record Result(double? Threshold, double Purity, double Completeness);

    /// <summary>Keys the attacker makes for the public model to simulate keyed traffic (INDVocab and LTokenizer are public).</summary>
    public static PrivacyKeys SimulatedKeys(string publicModel, string fingerprint, double epsilon = 13, int homophones = 1)
    {
        var config = ModelConfig.Load(publicModel);
        var (embedding, dtype) = PrivacyKeys.ReadEmbedding(publicModel, config);
        return PrivacyKeys.Generate(embedding, config, fingerprint, epsilon, label: "attacker-simulation", tableDtype: dtype, homophones: homophones).Keys;
    }

    public static Result Calibrate(AttackerKnowledge k, long tokens, int iterations, int seed, IProgressSink progress, double epsilon = 13)
    {
        var client = ClientModel.Load(k.PublicModelFolder, k.Split, untieHead: true);
        var keys = SimulatedKeys(k.PublicModelFolder, "attacker-simulation", epsilon);
        using var simulated = new ClientUnderTest("attacker simulation", client, keys, k.Wire);
        // Windows from the far end of the public corpus, so the simulation does not reuse the inversion's inputs.
        var windows = PublicCorpus.Slice(k.Corpus.Documents.AsEnumerable().Reverse().ToList()).Windows(256, tokens);
        var views = windows.Select(w => simulated.CloudView(w)).ToList();
        try
        {
            int clusters = TokenStatistics.DistinctIn(k.Corpus.Documents, tokens);
            var fits = EncoderOutputClusters.Fit(views, clusters, iterations, seed, progress, Thresholds);
            var truth = windows;
            var scored = fits.Select((f, i) => new Result(Thresholds[i], f.Purity(truth), f.Completeness(truth))).ToList();
            return scored.MaxBy(r => ClusterAgreement.F(r.Purity, r.Completeness))!;
        }
        finally { foreach (var v in views) v.Dispose(); }
    }
}
