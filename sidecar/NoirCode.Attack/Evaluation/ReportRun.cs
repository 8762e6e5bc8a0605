using System.Diagnostics;
using NoirCode.Attack.Attacks;
using NoirCode.Attack.Data;
using NoirCode.Attack.Report;
using NoirCode.Attack.Wire;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Core.Util;
using NoirCode.Privacy.Egress;
using NoirCode.Privacy.Keys;
using NoirCode.Protocol;

namespace NoirCode.Attack.Evaluation;

/// <summary>
/// One client setting to attack. <paramref name="KeysFolder"/> null and <paramref name="FreshEpsilon"/> set:
/// keys generated in memory at that ε for this run (never saved). Neither: no keys.
/// </summary>
/// <param name="Homophones">rows per token of the fresh keys (homophonic INDVocab); key folders say their own</param>
/// <param name="ResidualNoise">σ of the per-occurrence noise the client adds (<see cref="Privacy.ResidualMask"/>); 0: none</param>
public sealed record SettingSpec(string Name, string ClientFolder, bool Tuned, string? KeysFolder = null, double? FreshEpsilon = null, int Homophones = 1,
    double ResidualNoise = 0);

public sealed record ReportOptions
{
    public required string PublicModel { get; init; }
    public required IReadOnlyList<SettingSpec> Settings { get; init; }
    public string? PublicFolder { get; init; }
    public long PublicTokens { get; init; } = 1_000_000;
    public long InversionTokens { get; init; } = 100_000;
    public int InversionEpochs { get; init; } = 3;
    public string PrivateFile { get; init; } = "";
    public int? Limit { get; init; }
    public int MaxTokens { get; init; } = 512;
    public long SolverProposals { get; init; } = 2_000_000;
    public int ClusterIterations { get; init; } = 12;
    public SplitSpec Split { get; init; } = SplitSpec.Default;
    public WireDtype Wire { get; init; } = WireDtype.Float16;
}

/// <summary>The full report: builds the attacker's public knowledge once, then attacks every setting.</summary>
public static class ReportRun
{
    public static (ReportContext Context, List<SettingResult> Results) Execute(ReportOptions o, IProgressSink progress)
    {
        var clock = Stopwatch.StartNew();
        using var knowledge = AttackerKnowledge.Build(o.PublicModel, o.Split, t => PublicCorpus.Load(o.PublicFolder, t, o.PublicTokens),
            o.InversionTokens, o.Wire, progress);
        var tokenizer = knowledge.Tokenizer;
        var corpus = knowledge.Corpus;
        var nn = new NearestNeighbourInversion(knowledge);
        var learned = new LearnedInversion(knowledge, nn, new LearnedInversion.Settings(Epochs: o.InversionEpochs), progress);
        var clusterSettings = new ClusterFrequencyAttack.Settings(o.ClusterIterations, o.SolverProposals);
        var attacks = new ICloudAttack[]
        {
            new FrequencyGuessBaseline(knowledge), nn, learned, new CodeReconstruction(knowledge),
            new ClusterFrequencyAttack(knowledge, sequenceLevel: false, clusterSettings, progress),
            new ClusterFrequencyAttack(knowledge, sequenceLevel: true, clusterSettings, progress),
        };
        var docs = PrivateDocument.Load(o.PrivateFile, o.Limit);
        var sequences = PrivateSequence.Tokenize(docs, tokenizer, o.MaxTokens);
        var evaluation = new PrivacyEvaluation(knowledge, attacks, progress);
        var results = new List<SettingResult>();
        var notes = new List<string>();
        string fingerprint = ModelFingerprint.Of(o.PublicModel);
        foreach (var spec in o.Settings)
        {
            using var client = ClientUnderTest.ForSetting(spec, o.PublicModel, o.Split, o.Wire, fingerprint, notes);
            results.Add(evaluation.Run(client, sequences, client.Keys?.Metadata.Epsilon, spec.Tuned));
        }
        var context = new ReportContext(Path.GetFileName(Path.TrimEndingDirectorySeparator(o.PublicModel)), corpus.Source, corpus.TokenCount,
            knowledge.PublicLabels.LongLength, Path.GetFileName(o.PrivateFile), sequences.Count, o.MaxTokens, o.Wire.ToString(),
            clock.Elapsed.TotalSeconds, $"{Environment.ProcessorCount} CPU cores", notes);
        return (context, results);
    }
}
