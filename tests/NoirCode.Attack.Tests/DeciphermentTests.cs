using NoirCode.Attack.Attacks;
using NoirCode.Attack.Data;
using NoirCode.Attack.Decipherment;
using NoirCode.Attack.Volume;
using NoirCode.Core.Model;
using NoirCode.Core.Util;
using NoirCode.Testing.Models;
using static TorchSharp.torch;

namespace NoirCode.Attack.Tests;

/// <summary>The volume attack's parts on inputs with a known answer: the language model, the decipherer on a
/// substitution cipher it has to break, the streaming clusterer, the tokens-to-compromise interpolation.</summary>
public class DeciphermentTests
{
    /// <summary>A small "language": a Markov chain over <paramref name="vocab"/> tokens, Zipf-like unigrams and a
    /// few likely successors per token, from which the public corpus and the private text are drawn.</summary>
    static List<int[]> MarkovText(int vocab, int documents, int length, int seed, int languageSeed = 7)
    {
        var lang = new Random(languageSeed);
        var successors = Enumerable.Range(0, vocab).Select(_ => Enumerable.Range(0, 6).Select(_ => (int)(vocab * Math.Pow(lang.NextDouble(), 2.5))).ToArray()).ToArray();
        var rng = new Random(seed);
        var docs = new List<int[]>();
        for (int d = 0; d < documents; d++)
        {
            var doc = new int[length];
            int t = rng.Next(vocab);
            for (int i = 0; i < length; i++)
            {
                doc[i] = t;
                var next = successors[t];
                // Geometric preference among the successors, with a little noise anywhere.
                t = rng.NextDouble() < 0.03 ? rng.Next(vocab) : next[Math.Min(next.Length - 1, (int)(-Math.Log(1 - rng.NextDouble()) / 0.7))];
            }
            docs.Add(doc);
        }
        return docs;
    }

    /// <summary>The attacker's language model: public text of the same language as the private text.</summary>
    static KneserNeyTrigram PublicModel(int vocab) => new(MarkovText(vocab, 200, 1000, seed: 1), vocab);

    [Test]
    public void TrigramModelIsAProbabilityDistribution()
    {
        var lm = new KneserNeyTrigram(MarkovText(50, 20, 300, seed: 1), 50);
        foreach (var (u, v) in new[] { (3, 4), (lm.Bos, lm.Bos), (0, 49), (7, 7) })
            Assert.That(Enumerable.Range(0, 50).Sum(w => lm.Trigram(u, v, w)), Is.EqualTo(1.0).Within(1e-6), $"P(· | {u} {v})");
        Assert.That(Enumerable.Range(0, 50).Sum(w => lm.Bigram(3, w)), Is.EqualTo(1.0).Within(1e-6));
    }

    [Test]
    public void DeciphersASubstitutionCipherWithAKnownKey()
    {
        const int vocab = 300;
        var lm = PublicModel(vocab);
        var plain = MarkovText(vocab, 40, 500, seed: 2);               // 20,000 tokens the model never saw
        var key = OracleCipher.RandomKey(vocab, seed: 3);
        var cipher = OracleCipher.Encipher(plain, key);
        var decipherer = new SubstitutionDecipherer(lm, new SubstitutionDecipherer.Settings(), NullProgress.Instance);
        var naming = decipherer.Solve(new CipherStream(cipher));
        double accuracy = Accuracy(plain, cipher, naming);
        Assert.That(accuracy, Is.GreaterThan(0.9), "positions read back through the recovered key");
        Assert.That(decipherer.Trace[^1].LogLikelihood, Is.GreaterThan(decipherer.Trace[0].LogLikelihood), "the swaps raise the likelihood");

        // The same cipher against a model of another language (same vocabulary) reads next to nothing: the
        // decipherer's success comes from the statistics of the language, not from the test's construction.
        var wrong = new KneserNeyTrigram(MarkovText(vocab, 200, 1000, seed: 1, languageSeed: 99), vocab);
        var guess = new SubstitutionDecipherer(wrong, new SubstitutionDecipherer.Settings(), NullProgress.Instance).Solve(new CipherStream(cipher));
        Assert.That(Accuracy(plain, cipher, guess), Is.LessThan(0.25));
    }

    [Test]
    public void DeciphersAHomophonicCipherKnowingKAndNamesEverySymbolWhenTheyOutnumberTheTokens()
    {
        const int vocab = 300;
        var lm = PublicModel(vocab);
        var plain = MarkovText(vocab, 80, 500, seed: 2);
        var key = OracleCipher.RandomKey(vocab, seed: 3);
        // Four symbols per token, one per occurrence: the decipherer that knows k reads most of it back.
        var homophonic = OracleCipher.EncipherHomophonic(plain, key, 4, seed: 4);
        var naming = new SubstitutionDecipherer(lm, new SubstitutionDecipherer.Settings(Homophones: 4), NullProgress.Instance).Solve(new CipherStream(homophonic));
        Assert.That(Accuracy(plain, homophonic, naming), Is.GreaterThan(0.6));
        Assert.That(Enumerable.Range(0, vocab).Max(t => naming.Count(n => n == t)), Is.LessThanOrEqualTo(4), "no token names more than k symbols");
        // Every occurrence its own symbol (a clustering that found nothing): far more symbols than tokens, each named.
        var unique = new List<int[]>();
        int next = 0;
        foreach (var doc in plain.Take(8)) unique.Add(doc.Select(_ => next++).ToArray());
        var named = new SubstitutionDecipherer(lm, new SubstitutionDecipherer.Settings(MaxSweeps: 1), NullProgress.Instance).Solve(new CipherStream(unique));
        Assert.That(named, Has.Length.EqualTo(next).And.All.InRange(0, vocab - 1));
    }

    [Test]
    public void ASearchCanStartFromANamingTheCloudAlreadyHas()
    {
        const int vocab = 300;
        var lm = PublicModel(vocab);
        var plain = MarkovText(vocab, 60, 500, seed: 2);
        var key = OracleCipher.RandomKey(vocab, seed: 3);
        var cipher = OracleCipher.Encipher(plain, key);
        var decipherer = new SubstitutionDecipherer(lm, new SubstitutionDecipherer.Settings(), NullProgress.Instance);
        var stream = new CipherStream(cipher);
        var fresh = decipherer.Solve(stream);
        double freshLikelihood = decipherer.LastLogLikelihood;

        // From the true key the search keeps it, and the key explains the stream better than the fresh search's naming.
        var truth = Enumerable.Repeat(-1, stream.SymbolCount).ToArray();
        for (int t = 0; t < vocab; t++) if (key[t] < truth.Length && stream.Occurrences[key[t]].Length > 0) truth[key[t]] = t;
        var kept = decipherer.Solve(stream, truth);
        Assert.That(Accuracy(plain, cipher, kept), Is.GreaterThan(0.97));
        Assert.That(decipherer.LastLogLikelihood, Is.GreaterThanOrEqualTo(freshLikelihood));
        Assert.Throws<ArgumentException>(() => decipherer.Solve(stream, truth[..^1]));

        // Continuing a shorter prefix's naming: the symbols seen before keep their names, new ones take the fallback's
        // name while it has room, and no token names two symbols of a 1:1 cipher.
        var shortStream = new CipherStream(cipher.Take(6));
        var shortNaming = decipherer.Solve(shortStream);
        var continued = decipherer.Continued(stream, shortNaming, fresh);
        for (int s = 0; s < shortNaming.Length; s++)
            if (shortNaming[s] >= 0) Assert.That(continued[s], Is.EqualTo(shortNaming[s]), $"symbol {s} seen before");
        var present = Enumerable.Range(0, stream.SymbolCount).Where(s => stream.Occurrences[s].Length > 0).ToList();
        Assert.That(present.All(s => continued[s] >= 0), "every symbol that occurs is named");
        Assert.That(present.Select(s => continued[s]).Distinct().Count(), Is.EqualTo(present.Count), "a token names one symbol");
        Assert.That(present.Count(s => s >= shortNaming.Length || shortNaming[s] < 0), Is.GreaterThan(0), "the longer stream has new symbols");
        Assert.That(present.Where(s => (s >= shortNaming.Length || shortNaming[s] < 0) && continued[s] == fresh[s]).Count(), Is.GreaterThan(0),
            "new symbols take the fallback's names where they have room");
    }

    [Test]
    public void TheVolumeCurveKeepsTheLikelierOfTheFreshAndTheContinuedNamingAndResumes()
    {
        const int vocab = 300;
        var lm = PublicModel(vocab);
        var plain = MarkovText(vocab, 60, 500, seed: 5);
        var cipher = OracleCipher.Encipher(plain, OracleCipher.RandomKey(vocab, seed: 6));
        var config = ModelConfig.Load(BundledModel.Folder);
        var classes = new TokenClasses(CausalLM.LoadTokenizer(BundledModel.Folder, config), config.VocabSize);
        var decipherer = new SubstitutionDecipherer(lm, new SubstitutionDecipherer.Settings(), NullProgress.Instance);
        var scorer = new SubstitutionDecipherer(lm, new SubstitutionDecipherer.Settings(MaxSweeps: 0), NullProgress.Instance);
        long[] volumes = { 2_000, 20_000 };
        var root = Directory.CreateTempSubdirectory("noir-prefix-decipherment").FullName;
        try
        {
            var likelihood = new Dictionary<NamingStart, double>();
            var curves = new Dictionary<NamingStart, List<DecipherScore>>();
            foreach (var start in Enum.GetValues<NamingStart>())
            {
                string work = Path.Combine(root, start.ToString());
                Directory.CreateDirectory(work);
                curves[start] = PrefixDecipherment.Curve(volumes, plain, v => CipherStream.Prefix(cipher, v), decipherer, classes, NullProgress.Instance, "oracle", work, start);
                var saved = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(work, "oracle-naming.json")))!;
                Assert.That((long)saved["tokens"]!, Is.EqualTo(20_000));
                scorer.Solve(new CipherStream(CipherStream.Prefix(cipher, 20_000)), saved["naming"]!.AsArray().Select(n => (int)n!).ToArray());
                likelihood[start] = scorer.LastLogLikelihood;
            }
            Assert.That(curves[NamingStart.Fresh].Select(p => p.NamingFrom), Is.EqualTo(new[] { "fresh", "fresh" }));
            Assert.That(curves[NamingStart.Continued].Select(p => p.NamingFrom), Is.EqualTo(new[] { "fresh", "continued" }));
            // Best solves afresh as Fresh does, continues (new symbols taking the fresh names), and keeps the likelier.
            if (curves[NamingStart.Best][1].NamingFrom == "fresh")
                Assert.That(likelihood[NamingStart.Best], Is.EqualTo(likelihood[NamingStart.Fresh]).Within(1e-6));
            else Assert.That(likelihood[NamingStart.Best], Is.GreaterThan(likelihood[NamingStart.Fresh]), "a continued naming is kept only when likelier");

            // Resumed with one more volume: the measured points are kept as they were (not solved again), and the new one
            // continues from the saved naming.
            var solves = new SolveCounter();
            var counted = new SubstitutionDecipherer(lm, new SubstitutionDecipherer.Settings(), solves);
            var resumed = PrefixDecipherment.Curve(new long[] { 2_000, 20_000, 30_000 }, plain, v => CipherStream.Prefix(cipher, v), counted, classes, NullProgress.Instance, "oracle",
                Path.Combine(root, nameof(NamingStart.Continued)), NamingStart.Continued);
            static object Row(DecipherScore p) => (p.Tokens, Math.Round(p.PositionAccuracy, 4), Math.Round(p.ContentPositionAccuracy, 4), p.NamingFrom);
            Assert.That(resumed.Take(2).Select(Row), Is.EqualTo(curves[NamingStart.Continued].Select(Row)));
            Assert.That(resumed[2].NamingFrom, Is.EqualTo("continued"));
            Assert.That(solves.Count, Is.EqualTo(1), "only the new volume is solved");

            // A saved naming that explains nothing (a random one) is continued from, and loses to the fresh solve.
            string bad = Path.Combine(root, "bad");
            Directory.CreateDirectory(bad);
            var shuffled = OracleCipher.RandomKey(vocab, seed: 99);
            File.WriteAllText(Path.Combine(bad, "oracle-naming.json"), new System.Text.Json.Nodes.JsonObject
            {
                ["tokens"] = 2_000, ["naming"] = new System.Text.Json.Nodes.JsonArray(shuffled.Select(t => (System.Text.Json.Nodes.JsonNode)t).ToArray()),
            }.ToJsonString());
            var rescued = PrefixDecipherment.Curve(new long[] { 20_000 }, plain, v => CipherStream.Prefix(cipher, v), decipherer, classes, NullProgress.Instance, "oracle", bad, NamingStart.Best);
            Assert.That(rescued[0].NamingFrom, Is.EqualTo("fresh"));
            Assert.That(rescued[0].PositionAccuracy, Is.EqualTo(curves[NamingStart.Fresh][1].PositionAccuracy).Within(1e-9));
        }
        finally { Directory.Delete(root, true); }
    }

    /// <summary>Counts the decipherer's solves (each reports its first naming once).</summary>
    sealed class SolveCounter : IProgressSink
    {
        public int Count;
        public void Report(string stage, long done, long total, string? detail = null) { if (stage == "deciphering: first naming") Count++; }
        public void Done(string stage) { }
    }

    static double Accuracy(List<int[]> plain, List<int[]> cipher, int[] naming)
    {
        long hits = 0, total = 0;
        for (int s = 0; s < plain.Count; s++)
            for (int i = 0; i < plain[s].Length; i++) { total++; if (naming[cipher[s][i]] == plain[s][i]) hits++; }
        return (double)hits / total;
    }

    [Test]
    public void StreamingClustersFindOnePointPerToken()
    {
        // 40 token "rows" in 16 dimensions; each occurrence is its row plus small noise (what one block keeps).
        var rng = new Generator(5);
        var rows = randn(new long[] { 40, 16 }, generator: rng);
        var tokens = Enumerable.Range(0, 30).Select(s => Enumerable.Range(0, 50).Select(i => (s * 7 + i * i) % 40).ToArray()).ToList();
        var views = tokens.Select(seq => rows.index_select(0, tensor(seq.Select(t => (long)t).ToArray())) + 0.02 * randn(new long[] { seq.Length, 16 }, generator: rng)).ToList();
        using var clusterer = new StreamingClusterer(16, threshold: 0.9);
        foreach (var v in views) clusterer.Add(v);
        var assigned = StreamingClusterer.Split(clusterer.Assignments(), tokens.Select(t => t.Length));
        var (purity, completeness) = ClusterAgreement.Of(assigned, tokens);
        Assert.That(purity, Is.EqualTo(1.0));
        Assert.That(completeness, Is.EqualTo(1.0));
        Assert.That(clusterer.Clusters, Is.EqualTo(tokens.SelectMany(t => t).Distinct().Count()));
        // A prefix gets the same clusters as it would alone (so one pass gives every volume).
        using var prefix = new StreamingClusterer(16, threshold: 0.9);
        foreach (var v in views.Take(5)) prefix.Add(v);
        Assert.That(prefix.Assignments(), Is.EqualTo(assigned.Take(5).SelectMany(a => a).ToArray()));
        // The calibration picks a threshold that separates the tokens.
        var (tau, p, c, _) = StreamingClusterer.Calibrate(views, tokens, new[] { 0.0, 0.5, 0.9, 0.999 });
        Assert.That(p * c, Is.EqualTo(1.0), $"threshold {tau}");
    }

    [Test]
    public void UnderPerOccurrenceNoiseTheCalibratedAttackRefinesItsClustersAndLeavesCleanHomophonesAlone()
    {
        // 40 token rows in 32 dimensions; every occurrence carries noise about as large as its row (residual masking).
        var rng = new Generator(11);
        var rows = randn(new long[] { 40, 32 }, generator: rng);
        var tokens = Enumerable.Range(0, 60).Select(s => Enumerable.Range(0, 50).Select(i => (s * 7 + i * i) % 40).ToArray()).ToList();
        List<Tensor> Views(double sigma) => tokens.Select(seq => rows.index_select(0, tensor(seq.Select(t => (long)t).ToArray()))
            + sigma * randn(new long[] { seq.Length, 32 }, generator: rng)).ToList();
        double[] grid = { 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9 };

        var noisy = Views(1.0);
        var leader = StreamingClusterer.Calibrate(noisy, tokens, grid);
        var wire = WireClustering.Calibrate(noisy, tokens, grid, homophones: 1);
        Assert.That(wire.RefineIterations, Is.GreaterThan(0), $"leader alone: purity {leader.Purity:F3}, completeness {leader.Completeness:F3}");
        Assert.That(WireClustering.FromJson(wire.ToJson()), Is.EqualTo(wire), "a resumed run reads back the calibration it saved");
        Assert.That(ClusterAgreement.F(wire.Purity, wire.Completeness), Is.GreaterThan(ClusterAgreement.F(leader.Purity, leader.Completeness) + 0.05), "refinement helps");

        // On the traffic: the refined symbols of a prefix agree with the tokens better than the leader clusters do.
        using var clusterer = new StreamingClusterer(32, wire.Threshold, keepVectors: true);
        foreach (var v in noisy) clusterer.Add(v);
        var symbolsAt = wire.SymbolsAt(clusterer, tokens.Select(t => t.Length).ToList());
        var refined = symbolsAt(1_500);
        Assert.That(refined.Sum(s => s.Length), Is.EqualTo(1_500));
        var plain = StreamingClusterer.Split(clusterer.Assignments(), tokens.Select(t => t.Length));
        var truth = Decipherment.CipherStream.Prefix(tokens, 1_500);
        var (p1, c1) = ClusterAgreement.Of(refined, truth);
        var (p0, c0) = ClusterAgreement.Of(Decipherment.CipherStream.Prefix(plain, 1_500), truth);
        Assert.That(ClusterAgreement.F(p1, c1), Is.GreaterThan(ClusterAgreement.F(p0, c0)));
        Assert.That(wire.SymbolsPerToken, Is.EqualTo(Math.Max(1, (int)Math.Round(refined.SelectMany(s => s).Distinct().Count() / 40.0))).Within(1),
            "the decipherer allows about as many symbols per token as the clusters split tokens into");

        // Without noise nothing changes: one cluster per token, no refinement, one symbol per token.
        var clean = WireClustering.Calibrate(Views(0.02), tokens, grid, homophones: 1);
        Assert.That((clean.RefineIterations, clean.SymbolsPerToken, clean.Purity, clean.Completeness), Is.EqualTo((0, 1, 1.0, 1.0)));
        // Four rows per token, one per occurrence (homophonic keys), no noise: the clusters split every token four ways by
        // design; that is not noise to refine, and the decipherer allows exactly the mechanism's four symbols per token.
        var homophoneRows = randn(new long[] { 160, 32 }, generator: rng);
        var pick = new Random(3);
        var homophonic = tokens.Select(seq => homophoneRows.index_select(0, tensor(seq.Select(t => (long)(4 * t + pick.Next(4))).ToArray()))
            + 0.02 * randn(new long[] { seq.Length, 32 }, generator: rng)).ToList();
        var k4 = WireClustering.Calibrate(homophonic, tokens, grid, homophones: 4);
        Assert.That((k4.RefineIterations, k4.SymbolsPerToken, k4.Purity), Is.EqualTo((0, 4, 1.0)));
    }

    [Test]
    public void TokensToCompromiseInterpolatesOnALogScale()
    {
        DecipherScore P(long tokens, double content) => new(tokens, content, content, 0, 0, 1);
        var points = new[] { P(1_000, 0.01), P(10_000, 0.05), P(100_000, 0.2) };
        Assert.That(VolumeCurve.TokensToCompromise(points, 0.03), Is.EqualTo(3_162).Within(2));
        Assert.That(VolumeCurve.TokensToCompromise(points, 0.01), Is.EqualTo(1_000));
        Assert.That(VolumeCurve.TokensToCompromise(points, 0.5), Is.Null);
    }
}
