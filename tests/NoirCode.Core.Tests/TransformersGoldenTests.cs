using System.Security.Cryptography;
using System.Text.Json.Nodes;
using NoirCode.Core.Model;
using static TorchSharp.torch;

namespace NoirCode.Core.Tests;

/// <summary>
/// The engine against the reference implementation: tests/fixtures/golden holds logits that Hugging Face
/// transformers computed (scripts/gpu/noir_gpu.py golden) for the same weights and token ids: two random models
/// in our format (a Qwen2-style one with q/k/v bias and tied head, a Llama-3-style one with llama3 RoPE scaling
/// and an untied head) and the bundled model. It also checks the tokenizer against HF tokenizers.
/// </summary>
public class TransformersGoldenTests
{
    static readonly JsonArray Models = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", "golden", "transformers-logits.json")))!["models"]!.AsArray();

    static JsonObject Fixture(string name) => Models.Select(m => m!.AsObject()).Single(m => (string)m["name"]! == name);

    static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "NoirCode.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("NoirCode.sln not found above the test folder");
    }

    static string FolderFor(JsonObject f)
    {
        string dir;
        if (f["preset"] is { } preset)
        {
            dir = TestModels.NewFolder("golden");
            RandomModelFactory.Create(dir, (string)preset!, seed: (int)f["seed"]!);
        }
        else dir = Path.Combine(RepoRoot(), (string)f["folder"]!);
        string sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(dir, "model.safetensors"))));
        Assert.That(sha, Is.EqualTo((string)f["sha256"]!), $"the weights in {dir} are not the ones the golden logits were made for: regenerate them with scripts/gpu/noir_gpu.py golden");
        return dir;
    }

    [TestCase("tiny")]
    [TestCase("tiny-llama")]
    [TestCase("noir-coder-8m")]
    public void LogitsMatchTransformers(string name)
    {
        var f = Fixture(name);
        using var model = CausalLM.Load(FolderFor(f));
        var ids = f["input_ids"]!.AsArray().Select(v => (long)v!).ToArray();
        using var _ = no_grad();
        using var logits = model.Forward(tensor(ids).unsqueeze(0), arange(ids.Length), lastOnly: false);
        var all = logits.reshape(ids.Length, -1);
        var rows = f["logits_rows"]!.AsArray().Select(v => (int)v!).ToArray();
        var expected = f["logits"]!.AsArray();
        double worst = 0;
        for (int r = 0; r < rows.Length; r++)
        {
            var want = expected[r]!.AsArray().Select(v => (float)v!).ToArray();
            var got = all[rows[r]].data<float>().Take(want.Length).ToArray();
            worst = Math.Max(worst, want.Zip(got, (a, b) => Math.Abs(a - b)).Max());
        }
        // float32 on both sides; the fixture rounds to 1e-5..1e-6, and summation order differs.
        Assert.That(worst, Is.LessThan(2e-4), $"max |engine − transformers| = {worst:E2}");
        var argmax = all.argmax(-1).data<long>().ToArray();
        Assert.That(argmax, Is.EqualTo(f["argmax"]!.AsArray().Select(v => (long)v!).ToArray()));
    }

    [TestCase("tiny")]
    [TestCase("noir-coder-8m")]
    public void TokenizerMatchesHuggingFaceTokenizers(string name)
    {
        var f = Fixture(name);
        using var model = CausalLM.Load(FolderFor(f));
        foreach (var c in f["tokenizer"]!.AsArray())
        {
            string text = (string)c!["text"]!;
            Assert.That(model.Tokenizer.Encode(text), Is.EqualTo(c["ids"]!.AsArray().Select(v => (int)v!).ToArray()), text);
        }
    }

    [Test]
    public void AnotherModelFailsTheComparison()
    {
        // The comparison can fail: the tiny fixture against the same preset made with another seed.
        var f = Fixture("tiny");
        string dir = TestModels.NewFolder("other");
        RandomModelFactory.Create(dir, "tiny", seed: 2);
        using var model = CausalLM.Load(dir);
        var ids = f["input_ids"]!.AsArray().Select(v => (long)v!).ToArray();
        using var _ = no_grad();
        using var logits = model.Forward(tensor(ids).unsqueeze(0), arange(ids.Length), lastOnly: false);
        var got = logits.reshape(ids.Length, -1)[0].data<float>().ToArray();
        var want = f["logits"]!.AsArray()[0]!.AsArray().Select(v => (float)v!).ToArray();
        Assert.That(want.Zip(got, (a, b) => Math.Abs(a - b)).Max(), Is.GreaterThan(0.01));
    }
}
