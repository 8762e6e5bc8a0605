using NoirCode.Core.Generation;
using NoirCode.Core.Model;
using NoirCode.Core.Reference;
using NoirCode.Core.Split;
using static TorchSharp.torch;
using NoirCode.Testing.Sessions;

namespace NoirCode.Core.Tests;

/// <summary>The split engine against the unsplit one, and the engine against the independent float64 reference.</summary>
public class EngineParityTests
{
    [TestCase("tiny", "F32", 1, 4)]
    [TestCase("tiny", "BF16", 1, 4)]
    [TestCase("tiny-llama", "F32", 2, 2)]
    [TestCase("tiny-llama", "F16", 1, 1)]
    public void SplitMatchesUnsplitAndEngineMatchesFloat64Reference(string preset, string dtype, int k, int j)
    {
        var report = ParityCheck.Run(TestModels.Get(preset, dtype), new SplitSpec(k, j));
        Assert.Multiple(() =>
        {
            Assert.That(report.MaxAbsDiff, Is.LessThanOrEqualTo(1e-5), "split vs unsplit");
            Assert.That(report.MaxAbsDiffReference, Is.LessThanOrEqualTo(1e-4), "engine vs float64 reference");
            Assert.That(report.MaxAbsDiffKvRecompute, Is.LessThanOrEqualTo(1e-4), "KV-cache decode vs full recompute");
            Assert.That(report.DecodeSteps, Is.EqualTo(16));
            Assert.That(report.Passed, Is.True);
        });
    }

    [Test]
    public void ReferenceDisagreesWithADifferentModel()
    {
        // Guards against a comparison that cannot fail: another seed's weights must give very different logits.
        string other = TestModels.NewFolder("other");
        RandomModelFactory.Create(other, "tiny", seed: 99);
        using var model = CausalLM.Load(TestModels.Get());
        using var session = new LocalSession(model);
        var ids = model.Tokenizer.Encode("def f(x):\n    return x");
        var logits = session.Append(ids);
        var reference = new ReferenceTransformer(other).Logits(ids);
        double diff = logits.Select((v, i) => Math.Abs(v - reference[ids.Count - 1, i])).Max();
        Assert.That(diff, Is.GreaterThan(0.1));
    }

    [TestCase("tiny")]
    [TestCase("tiny-llama")]
    public void ChunkedPrefillAndDecodeEqualFullRecompute(string preset)
    {
        using var model = CausalLM.Load(TestModels.Get(preset));
        var ids = model.Tokenizer.Encode("def binary_search(values, target):\n    low, high = 0, len(values) - 1\n").Take(20).ToArray();
        using var session = new LocalSession(model);
        var stepLogits = new List<float[]>();
        int pos = 0;
        foreach (int chunk in new[] { 7, 5, 1, 3, 1, 1, 2 }) // chunks after cached positions use the offset causal mask
        {
            stepLogits.Add(session.Append(ids[pos..(pos + chunk)]));
            pos += chunk;
        }
        using var _ = no_grad();
        using var full = model.Forward(tensor(ids.Select(i => (long)i).ToArray()).unsqueeze(0), arange(ids.Length), lastOnly: false);
        pos = 0;
        int c = 0;
        foreach (int chunk in new[] { 7, 5, 1, 3, 1, 1, 2 })
        {
            pos += chunk;
            var expected = full[0, pos - 1].data<float>().ToArray();
            Assert.That(MaxAbs(stepLogits[c++], expected), Is.LessThanOrEqualTo(1e-4), $"after {pos} tokens");
        }
    }

    [Test]
    public void TruncateThenDecodeEqualsAFreshRun([Values] bool split)
    {
        string dir = TestModels.Get("tiny-llama");
        using var model = CausalLM.Load(dir);
        using var client = ClientModel.Load(dir);
        using var cloud = CloudShard.Load(dir);
        IInferenceSession NewSession() => split ? new SplitSession(client, new LocalMiddleSession(cloud)) : new LocalSession(model);

        var prompt = model.Tokenizer.Encode("import os\nimport sys\n").ToArray();
        using var edited = NewSession();
        edited.Append(prompt);
        foreach (int t in new[] { 11, 12, 13, 14, 15 }) edited.Append(new[] { t });
        edited.Truncate(prompt.Length + 2);
        Assert.That(edited.Length, Is.EqualTo(prompt.Length + 2));
        var afterEdit = edited.Append(new[] { 40, 41, 42 });

        using var fresh = NewSession();
        fresh.Append(prompt.Concat(new[] { 11, 12 }).ToArray());
        var expected = fresh.Append(new[] { 40, 41, 42 });
        Assert.That(MaxAbs(afterEdit, expected), Is.LessThanOrEqualTo(1e-5));
    }

    [Test]
    public void AFailedStepLeavesTheSplitSessionWhereItWas()
    {
        string dir = TestModels.Get();
        using var client = ClientModel.Load(dir);
        using var cloud = CloudShard.Load(dir);
        var flaky = new ScriptedMiddleSession(new LocalMiddleSession(cloud)); // fails when told to, as an unreachable endpoint does
        using var session = new SplitSession(client, flaky);
        var prompt = client.Tokenizer.Encode("def f(x):\n    return").ToArray();
        session.Append(prompt);
        flaky.Fail = true;
        Assert.Throws<IOException>(() => session.Append(new[] { 5, 6 }));
        Assert.That(session.Length, Is.EqualTo(prompt.Length), "the failed tokens were rolled back");
        flaky.Fail = false;
        var resumed = session.Append(new[] { 7 });
        using var fresh = new SplitSession(client, new LocalMiddleSession(cloud));
        fresh.Append(prompt);
        Assert.That(MaxAbs(resumed, fresh.Append(new[] { 7 })), Is.LessThanOrEqualTo(1e-5));
    }

    [Test]
    public void ShardFoldersHoldOnlyTheirPartAndReproduceTheModel()
    {
        string dir = TestModels.Get("tiny-llama");
        string clientDir = Path.Combine(TestModels.NewFolder("split"), "client"), cloudDir = Path.Combine(TestModels.NewFolder("split"), "cloud");
        var result = ModelSplitter.Split(dir, clientDir, cloudDir, SplitSpec.Default);
        Assert.That(result.Split, Is.EqualTo(new SplitSpec(1, 4)));

        var clientNames = Weights.WeightFolder.Open(clientDir).Names.ToList();
        var cloudNames = Weights.WeightFolder.Open(cloudDir).Names.ToList();
        Assert.That(clientNames, Does.Contain(ModelLayout.Embedding).And.Contain(ModelLayout.LmHead).And.Contain(ModelLayout.FinalNorm));
        Assert.That(clientNames.Where(n => n.StartsWith("model.layers.")).Select(n => n.Split('.')[2]).Distinct().Order(), Is.EqualTo(new[] { "0", "2", "3", "4", "5" }));
        Assert.That(cloudNames, Is.All.StartsWith("model.layers.1."));
        Assert.That(File.Exists(Path.Combine(cloudDir, "tokenizer.json")), Is.False, "the cloud never holds the tokenizer");

        using var model = CausalLM.Load(dir);
        using var client = ClientModel.Load(clientDir);
        using var cloud = CloudShard.Load(cloudDir);
        Assert.That(client.Split, Is.EqualTo(cloud.Split));
        Assert.That(ModelFingerprint.Of(clientDir), Is.EqualTo(ModelFingerprint.Of(dir)).And.EqualTo(ModelFingerprint.Of(cloudDir)));
        var ids = model.Tokenizer.Encode("while low <= high:\n");
        using var a = new LocalSession(model);
        using var b = new SplitSession(client, new LocalMiddleSession(cloud));
        Assert.That(MaxAbs(a.Append(ids), b.Append(ids)), Is.LessThanOrEqualTo(1e-5));
        Assert.Throws<Util.ModelLoadException>(() => CausalLM.Load(clientDir), "a client shard is not a whole model");
        Assert.Throws<Util.ModelLoadException>(() => CloudShard.Load(clientDir));
    }

    [Test]
    public void SplitIsClippedForSmallModels()
    {
        Assert.That(new SplitSpec(1, 4).ClipFor(6), Is.EqualTo(new SplitSpec(1, 4)));
        Assert.That(new SplitSpec(1, 4).ClipFor(4), Is.EqualTo(new SplitSpec(1, 2)));
        Assert.That(new SplitSpec(3, 3).ClipFor(3), Is.EqualTo(new SplitSpec(1, 1)));
        Assert.Throws<ArgumentException>(() => new SplitSpec(1, 1).ClipFor(2));
        Assert.Throws<ArgumentException>(() => SplitSpec.Parse("0,4"));
        Assert.That(SplitSpec.Parse("2,3"), Is.EqualTo(new SplitSpec(2, 3)));
    }

    static double MaxAbs(float[] a, float[] b) => a.Zip(b).Max(p => Math.Abs((double)p.First - p.Second));
}
