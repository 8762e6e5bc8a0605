using System.Diagnostics;
using System.Text.Json.Nodes;
using NoirCode.Attack.Attacks;
using NoirCode.Attack.Data;
using NoirCode.Attack.Decipherment;
using NoirCode.Attack.Evaluation;
using NoirCode.Attack.Wire;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Core.Tokenization;
using NoirCode.Core.Util;
using NoirCode.Privacy.Egress;
using NoirCode.Privacy.Keys;
using NoirCode.Protocol;

namespace NoirCode.Attack.Volume;

public sealed record VolumeOptions
{
    public required string PublicModel { get; init; }
    public required IReadOnlyList<SettingSpec> Settings { get; init; }
    /// <summary>Folders of public .py code for the attacker's language model (null entry: the python3 stdlib).</summary>
    public IReadOnlyList<string?> PublicFolders { get; init; } = new string?[] { null };
    public long PublicTokens { get; init; } = 20_000_000;
    /// <summary>Folders of .py code that stand for the user's private code (never in the attacker's corpus). Empty:
    /// the private code is a held-out share of the public folders' files (<see cref="PrivateShare"/>), so that the
    /// attacker's model knows code like the user's, as a cloud with the world's public code would.</summary>
    public IReadOnlyList<string> PrivateFolders { get; init; } = Array.Empty<string>();
    public double PrivateShare { get; init; } = 0.2;
    /// <summary>Folders of .py code that the private code continues with, after the held-out share, when that share
    /// is shorter than the largest volume (other packages, never in the attacker's corpus): every volume the share
    /// covers reads the same traffic as without them. Files identical to a public or held-out file are left out.</summary>
    public IReadOnlyList<string> PrivateExtraFolders { get; init; } = Array.Empty<string>();
    /// <summary>The decipherer's sweep limit (it stops earlier once a sweep renames almost nothing).</summary>
    public int MaxSweeps { get; init; } = new SubstitutionDecipherer.Settings().MaxSweeps;
    public NamingStart Start { get; init; } = NamingStart.Best;
    public long[] Volumes { get; init; } = { 1_000, 3_000, 10_000, 30_000, 100_000, 300_000, 1_000_000 };
    /// <summary>The largest volume deciphered for the client settings (clustering still covers every volume);
    /// null: all. Deciphering is the costly part, and keyed traffic that clusters purely is the oracle's cipher.</summary>
    public long? SettingsMaxVolume { get; init; }
    /// <summary>Tokens per request window sent from position 0.</summary>
    public int Window { get; init; } = 512;
    public long CalibrationTokens { get; init; } = 50_000;
    public SplitSpec Split { get; init; } = SplitSpec.Default;
    public WireDtype Wire { get; init; } = WireDtype.Float16;
    public bool Oracle { get; init; } = true;
    /// <summary>Homophone counts k for oracle homophonic ciphers of the same private code (k symbols per token, one
    /// picked per occurrence): what a k-table INDVocab leaves the cloud at best, deciphered knowing k.</summary>
    public IReadOnlyList<int> OracleHomophones { get; init; } = Array.Empty<int>();
    /// <summary>Finished parts are kept here (scores, namings of cluster ids, the clustering calibration; never code) so that an interrupted run resumes as it began.</summary>
    public required string WorkFolder { get; init; }
}

public sealed record VolumeResult(string PublicSource, long PublicTokens, string PrivateSource, long PrivateTokens, int Window,
    IReadOnlyList<DecipherScore> Oracle, IReadOnlyList<VolumeCurve> Curves, double Seconds, string Machine);

/// <summary>
/// <c>noir attack volume</c>: the strongest inference attack we have (streaming clustering of what the cloud
/// receives, then decipherment with a Kneser–Ney trigram model of public code), measured against how much traffic
/// the cloud has seen under one key; first on an oracle substitution cipher of the same private code (the proof
/// that the decipherer is strong), then on each client setting's real encoder outputs.
/// </summary>
public static class VolumeRun
{
    // Down to 0.1: per-occurrence noise (residual masking) pulls a token's vectors apart, and a grid that stops at 0.5
    // chose its own edge against σ = 1 (every occurrence its own cluster), a weak attack rather than a strong defence.
    public static readonly double[] Thresholds = { 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98 };

    public static VolumeResult Execute(VolumeOptions o, IProgressSink progress)
    {
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(o.WorkFolder);
        var config = ModelConfig.Load(o.PublicModel);
        var tokenizer = CausalLM.LoadTokenizer(o.PublicModel, config);
        var classes = new TokenClasses(tokenizer, config.VocabSize);
        var (publicDocs, publicSource) = LoadCode(o.PublicFolders, tokenizer, o.PublicTokens);
        List<int[]> privateDocs;
        string privateSource;
        if (o.PrivateFolders.Count > 0) (privateDocs, privateSource) = LoadCode(o.PrivateFolders.Select(f => (string?)f).ToList(), tokenizer, long.MaxValue);
        else
        {
            // A fixed share of the files, chosen by content hash, held out of the attacker's corpus.
            int every = (int)Math.Round(1 / o.PrivateShare);
            privateDocs = publicDocs.Where(d => HeldOut(d, every)).ToList();
            privateSource = $"{100.0 / every:G3} % of the files of {publicSource}, held out of the attacker's corpus";
        }
        // Decontamination: the attacker's public code holds none of the private files.
        var privateSet = new HashSet<string>(privateDocs.Select(Fingerprint));
        publicDocs = publicDocs.Where(d => !privateSet.Contains(Fingerprint(d))).ToList();
        long maxVolume = o.Volumes.Max();
        var traffic = PublicCorpus.Slice(privateDocs).Windows(o.Window, maxVolume);
        long trafficTokens = traffic.Sum(w => (long)w.Length);
        if (trafficTokens < maxVolume && o.PrivateExtraFolders.Count > 0)
        {
            var (extraDocs, extraSource) = LoadCode(o.PrivateExtraFolders.Select(f => (string?)f).ToList(), tokenizer, long.MaxValue);
            var known = new HashSet<string>(publicDocs.Select(Fingerprint).Concat(privateSet));
            extraDocs = extraDocs.Where(d => known.Add(Fingerprint(d))).ToList(); // also drops a file repeated within them
            var extra = PublicCorpus.Slice(extraDocs).Windows(o.Window, maxVolume - trafficTokens);
            privateSource += $"; after its {trafficTokens} tokens, {extraSource} ({extra.Sum(w => (long)w.Length)} tokens, none in the attacker's corpus)";
            traffic.AddRange(extra);
            trafficTokens += extra.Sum(w => (long)w.Length);
        }
        if (trafficTokens < maxVolume)
            throw new ArgumentException($"the private code holds {trafficTokens} tokens in windows, fewer than the largest volume {maxVolume}; add folders or lower --volumes");
        progress.Report("attacker's language model", 0, 1, $"{publicDocs.Sum(d => (long)d.Length)} public tokens");
        var lm = new KneserNeyTrigram(publicDocs, config.VocabSize);
        var decipherer = new SubstitutionDecipherer(lm, new SubstitutionDecipherer.Settings(MaxSweeps: o.MaxSweeps), progress);
        progress.Done("attacker's language model");

        var oracle = new List<DecipherScore>();
        if (o.Oracle)
            oracle = Checkpointed(o, "oracle", () =>
            {
                var key = OracleCipher.RandomKey(config.VocabSize, seed: 2013);
                var cipher = OracleCipher.Encipher(traffic, key);
                return new JsonObject { ["volume"] = VolumeCurve.PointsJson(PrefixDecipherment.Curve(o.Volumes, traffic, v => CipherStream.Prefix(cipher, v), decipherer, classes, progress, "oracle", o.WorkFolder, o.Start)) };
            }, j => VolumeCurve.PointsFrom(j["volume"]!.AsArray()));

        var curves = new List<VolumeCurve>();
        foreach (int k in o.OracleHomophones)
            curves.Add(Checkpointed(o, $"oracle-k{k}", () =>
            {
                var clock = Stopwatch.StartNew();
                var key = OracleCipher.RandomKey(config.VocabSize, seed: 2013);
                var cipher = OracleCipher.EncipherHomophonic(traffic, key, k, seed: 2011);
                var homophonic = new SubstitutionDecipherer(lm, new SubstitutionDecipherer.Settings(MaxSweeps: o.MaxSweeps, Homophones: k), progress);
                var points = PrefixDecipherment.Curve(o.Volumes, traffic, v => CipherStream.Prefix(cipher, v), homophonic, classes, progress, $"oracle-k{k}", o.WorkFolder, o.Start);
                var (purity, completeness) = ClusterAgreement.Of(cipher, traffic);
                return new VolumeCurve($"oracle-k{k}", null, true, false, points, cipher.Max(c => c.DefaultIfEmpty(-1).Max()) + 1, double.NaN,
                    purity, completeness, clock.Elapsed.TotalSeconds)
                { SymbolsPerToken = k }.ToJson();
            }, VolumeCurve.FromJson));
        string fingerprint = ModelFingerprint.Of(o.PublicModel);
        foreach (var spec in o.Settings)
            curves.Add(Checkpointed(o, spec.Name, () => Attack(spec, o, fingerprint, publicDocs, traffic, lm, decipherer, classes, progress).ToJson(),
                VolumeCurve.FromJson));
        return new VolumeResult(publicSource, publicDocs.Sum(d => (long)d.Length), privateSource, trafficTokens, o.Window, oracle, curves,
            clock.Elapsed.TotalSeconds, $"{Environment.ProcessorCount} CPU cores");
    }

    static VolumeCurve Attack(SettingSpec spec, VolumeOptions o, string fingerprint, List<int[]> publicDocs, List<int[]> traffic,
        KneserNeyTrigram lm, SubstitutionDecipherer decipherer, TokenClasses classes, IProgressSink progress)
    {
        var clock = Stopwatch.StartNew();
        using var client = ClientUnderTest.ForSetting(spec, o.PublicModel, o.Split, o.Wire, fingerprint, new List<string>());
        bool keyed = client.Keys != null;
        // The mechanism is public: the attacker knows how many rows per token the keys hold, not the rows.
        int homophones = client.Keys?.Metadata.Homophones ?? 1;
        // The attacker's calibration: its own keys (or none, as the setting sends) on public code it knows.
        using var simulation = new ClientUnderTest("attacker simulation", ClientModel.Load(o.PublicModel, o.Split, untieHead: true),
            keyed ? ClusterCalibration.SimulatedKeys(o.PublicModel, fingerprint, homophones: homophones) : null, o.Wire, spec.ResidualNoise);
        // Calibrated once per work folder: the simulation's keys and noise are fresh each time, so a resumed run reuses
        // the calibration its kept points and naming were measured with rather than drawing another.
        string calibrationFile = Path.Combine(o.WorkFolder, $"{spec.Name}-calibration.json");
        WireClustering wire;
        if (File.Exists(calibrationFile)) wire = WireClustering.FromJson(JsonNode.Parse(File.ReadAllText(calibrationFile))!.AsObject());
        else
        {
            var calibrationWindows = PublicCorpus.Slice(publicDocs.AsEnumerable().Reverse().ToList()).Windows(o.Window, o.CalibrationTokens);
            var calibrationViews = calibrationWindows.Select(w => simulation.CloudView(w)).ToList();
            wire = WireClustering.Calibrate(calibrationViews, calibrationWindows, Thresholds, homophones);
            foreach (var v in calibrationViews) v.Dispose();
            PrefixDecipherment.WriteAtomically(calibrationFile, wire.ToJson().ToJsonString());
        }
        progress.Report($"{spec.Name}: calibration", 1, 1, $"threshold {wire.Threshold}, refinement {wire.RefineIterations}, {wire.SymbolsPerToken} symbols per token " +
            $"(simulation: purity {wire.Purity:F3}, completeness {wire.Completeness:F3})");

        using var clusterer = new StreamingClusterer(client.Client.Config.HiddenSize, wire.Threshold, keepVectors: wire.RefineIterations > 0);
        for (int i = 0; i < traffic.Count; i++)
        {
            using var view = client.CloudView(traffic[i]);
            clusterer.Add(view);
            if (i % 20 == 0) progress.Report($"{spec.Name}: clustering the wire", i + 1, traffic.Count, $"{clusterer.Clusters} clusters");
        }
        progress.Done($"{spec.Name}: clustering the wire");
        var symbolsAt = wire.SymbolsAt(clusterer, traffic.Select(t => t.Length).ToList());
        if (wire.SymbolsPerToken > 1) decipherer = new SubstitutionDecipherer(lm, new SubstitutionDecipherer.Settings(MaxSweeps: o.MaxSweeps, Homophones: wire.SymbolsPerToken), progress);
        var volumes = o.Volumes.Where(v => v <= (o.SettingsMaxVolume ?? long.MaxValue)).ToArray();
        var points = PrefixDecipherment.Curve(volumes, traffic, symbolsAt, decipherer, classes, progress, spec.Name, o.WorkFolder, o.Start);
        // The clusters reported: the whole stream's leader clusters, or, when refining, the largest deciphered prefix's.
        bool refined = wire.RefineIterations > 0;
        long reach = refined && volumes.Length > 0 ? volumes.Max() : long.MaxValue;
        var symbols = symbolsAt(reach);
        var (purity, completeness) = ClusterAgreement.Of(symbols, CipherStream.Prefix(traffic, reach));
        int clusters = refined ? symbols.SelectMany(s => s).Distinct().Count() : clusterer.Clusters;
        return new VolumeCurve(spec.Name, client.Keys?.Metadata.Epsilon, keyed, spec.Tuned, points, clusters, wire.Threshold, purity, completeness,
            clock.Elapsed.TotalSeconds)
        { RefineIterations = wire.RefineIterations, SymbolsPerToken = wire.SymbolsPerToken };
    }

    static T Checkpointed<T>(VolumeOptions o, string name, Func<JsonObject> compute, Func<JsonObject, T> read)
    {
        string path = Path.Combine(o.WorkFolder, $"{name}-to-{(name.StartsWith("oracle") ? o.Volumes.Max() : Math.Min(o.Volumes.Max(), o.SettingsMaxVolume ?? long.MaxValue))}.json");
        if (File.Exists(path)) return read(JsonNode.Parse(File.ReadAllText(path))!.AsObject());
        var json = compute();
        PrefixDecipherment.WriteAtomically(path, json.ToJsonString());
        return read(json);
    }

    /// <summary>Public code from several folders (null: the python3 stdlib), up to <paramref name="maxTokens"/> in all.</summary>
    public static (List<int[]> Docs, string Source) LoadCode(IReadOnlyList<string?> folders, CodeTokenizer tokenizer, long maxTokens)
    {
        var docs = new List<int[]>();
        var sources = new List<string>();
        foreach (var folder in folders)
        {
            var corpus = PublicCorpus.Load(folder, tokenizer, maxTokens - docs.Sum(d => (long)d.Length));
            docs.AddRange(corpus.Documents);
            sources.Add(corpus.Source);
        }
        return (docs, string.Join(", ", sources));
    }

    static bool HeldOut(int[] doc, int every) => Convert.FromHexString(Fingerprint(doc))[0] % every == 0;

    static string Fingerprint(int[] doc) => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(doc.AsSpan())));
}
