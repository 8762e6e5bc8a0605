namespace NoirCode.Cli.Tests;

/// <summary>The commands of the core issue, checked from outside on a model made by init-random.</summary>
public class CliTests
{
    string _root = "";
    string Model => Path.Combine(_root, "model");

    [OneTimeSetUp]
    public void MakeModel()
    {
        _root = Directory.CreateTempSubdirectory("noir-cli-tests-").FullName;
        var r = NoirProcess.Ok("model", "init-random", "--preset", "tiny", "--out", Model, "--json");
        Assert.That((int)r.Json["layers"]!, Is.EqualTo(6));
        foreach (var f in new[] { "config.json", "model.safetensors", "tokenizer.json" })
            Assert.That(File.Exists(Path.Combine(Model, f)), f);
    }

    [OneTimeTearDown]
    public void Clean() => Directory.Delete(_root, recursive: true);

    [Test]
    public void InfoDescribesTheModel()
    {
        var info = NoirProcess.Ok("model", "info", Model, "--json").Json;
        Assert.That((string)info["architecture"]!, Is.EqualTo("Qwen2ForCausalLM"));
        Assert.That((string)info["fim"]!, Is.EqualTo("qwen"));
        Assert.That((string)info["default_split"]!, Is.EqualTo("1,4"));
        Assert.That((long)info["parameters"]!, Is.GreaterThan(100_000));
        Assert.That(NoirProcess.Ok("model", "info", Model).Stdout, Does.Contain("Qwen2ForCausalLM"));
    }

    [Test]
    public void ParityPassesWithinTolerance()
    {
        var r = NoirProcess.Ok("parity", "--model", Model, "--json");
        var o = r.Json;
        Assert.That((double)o["max_abs_diff"]!, Is.LessThanOrEqualTo(1e-5));
        Assert.That((double)o["max_abs_diff_reference"]!, Is.LessThanOrEqualTo(1e-4));
        Assert.That((bool)o["passed"]!, Is.True);
        Assert.That(r.Stderr, Does.Contain("loading weights"), "progress goes to stderr");
    }

    [Test]
    public void GenerateLocallyAndSplitGiveTheSameGreedyText()
    {
        var local = NoirProcess.Ok("generate", "--model", Model, "--prompt", "def add(a, b):", "--max-tokens", "10", "--json").Json;
        var split = NoirProcess.Ok("generate", "--model", Model, "--prompt", "def add(a, b):", "--max-tokens", "10", "--split", "1,4", "--json").Json;
        Assert.That((int)local["generated_tokens"]!, Is.GreaterThan(0));
        Assert.That((string)split["text"]!, Is.EqualTo((string)local["text"]!));
        Assert.That((string)split["mode"]!, Does.StartWith("split 1,4"));
    }

    [Test]
    public void GreedyGenerateSpeculatesByDefaultAndNoSpeculationGivesTheSameText()
    {
        const string prompt = "import os\nimport sys\nimport json\nimport os\nimport";
        var fast = NoirProcess.Ok("generate", "--model", Model, "--prompt", prompt, "--max-tokens", "16", "--split", "1,4", "--json").Json;
        var plain = NoirProcess.Ok("generate", "--model", Model, "--prompt", prompt, "--max-tokens", "16", "--split", "1,4", "--no-speculation", "--json").Json;
        Assert.That((string)fast["text"]!, Is.EqualTo((string)plain["text"]!));
        Assert.That(plain["speculation"], Is.Null);
        Assert.That((int)fast["speculation"]!["steps"]!, Is.GreaterThan(0));
        Assert.That((int)fast["speculation"]!["positions_sent"]!, Is.GreaterThanOrEqualTo((int)fast["speculation"]!["steps"]!));
        var sampled = NoirProcess.Ok("generate", "--model", Model, "--prompt", prompt, "--max-tokens", "4", "--temperature", "0.8", "--seed", "1", "--json").Json;
        Assert.That(sampled["speculation"], Is.Not.Null, "sampling is speculative too (speculative sampling)");
    }

    [Test]
    public void FillInTheMiddleAndSampling()
    {
        var fim = NoirProcess.Ok("generate", "--model", Model, "--prefix", "def f(x):\n    ", "--suffix", "\n    return y\n", "--max-tokens", "6", "--json").Json;
        Assert.That((int)fim["prompt_tokens"]!, Is.GreaterThan(3));
        var a = NoirProcess.Ok("generate", "--model", Model, "--prompt", "import", "--temperature", "0.8", "--top-p", "0.9", "--seed", "5", "--max-tokens", "8", "--json").Json;
        var b = NoirProcess.Ok("generate", "--model", Model, "--prompt", "import", "--temperature", "0.8", "--top-p", "0.9", "--seed", "5", "--max-tokens", "8", "--json").Json;
        Assert.That((string)b["text"]!, Is.EqualTo((string)a["text"]!));
        var plain = NoirProcess.Ok("generate", "--model", Model, "--prompt", "import", "--max-tokens", "3");
        Assert.That(plain.Stderr, Does.Contain("prompt tokens"));
    }

    [Test]
    public void SplitFoldersGenerateLikeTheWholeModel()
    {
        string client = Path.Combine(_root, "client"), cloud = Path.Combine(_root, "cloud");
        var s = NoirProcess.Ok("split", "--model", Model, "--client-out", client, "--cloud-out", cloud, "--json").Json;
        Assert.That((string)s["split"]!, Is.EqualTo("1,4"));
        Assert.That(File.Exists(Path.Combine(cloud, "tokenizer.json")), Is.False);
        var whole = NoirProcess.Ok("generate", "--model", Model, "--prompt", "class Inventory:", "--max-tokens", "10", "--json").Json;
        var parts = NoirProcess.Ok("generate", "--model", client, "--cloud-shard", cloud, "--prompt", "class Inventory:", "--max-tokens", "10", "--json").Json;
        Assert.That((string)parts["text"]!, Is.EqualTo((string)whole["text"]!));
        var again = NoirProcess.Run("split", "--model", Model, "--client-out", client, "--cloud-out", cloud);
        Assert.That(again.ExitCode, Is.EqualTo(2));
        Assert.That(again.Stderr, Does.Contain("not empty"));
        // A client shard is never exported: the GGUF is the whole, public model.
        var shard = NoirProcess.Run("model", "export-gguf", client, "--out", Path.Combine(_root, "client.gguf"));
        Assert.That(shard.ExitCode, Is.EqualTo(2));
        Assert.That(shard.Stderr, Does.Contain("shard; export the whole model"));
        Assert.That(File.Exists(Path.Combine(_root, "client.gguf")), Is.False);
    }

    [Test]
    public void TheWholeModelExportsToGguf()
    {
        string file = Path.Combine(_root, "model.gguf");
        var r = NoirProcess.Ok("model", "export-gguf", Model, "--out", file, "--dtype", "f16", "--json").Json;
        Assert.That((string)r["file"]!, Is.EqualTo(file));
        Assert.That((long)r["bytes"]!, Is.EqualTo(new FileInfo(file).Length));
        Assert.That(File.ReadAllBytes(file)[..4], Is.EqualTo("GGUF"u8.ToArray()));
    }

    [TestCase("model info /nonexistent", "does not exist")]
    [TestCase("generate --model /nonexistent --prompt x", "does not exist")]
    [TestCase("generate --model MODEL", "give either --prompt")]
    [TestCase("generate --model MODEL --prompt x --split 9", "--split must be K,J")]
    [TestCase("model init-random --preset huge --out NEW", "unknown preset 'huge'")]
    [TestCase("tune --model MODEL --keys NEW --endpoint http://127.0.0.1:1 --data NEW --out NEW --teacher MODEL --label-protection none", "--teacher is for forward-only tuning")]
    [TestCase("tune --model MODEL --keys NEW --endpoint http://127.0.0.1:1 --data NEW --out NEW --teacher MODEL --distill-weight 2", "--distill-weight is in (0, 1]")]
    public void BadInputGivesOneClearLine(string commandLine, string expected)
    {
        var args = commandLine.Split(' ').Select(a => a == "MODEL" ? Model : a == "NEW" ? Path.Combine(_root, Guid.NewGuid().ToString("N")) : a).ToArray();
        var r = NoirProcess.Run(args);
        Assert.That(r.ExitCode, Is.EqualTo(2));
        Assert.That(r.Stderr, Does.Contain("noir: error: ").And.Contain(expected));
        Assert.That(r.Stderr, Does.Not.Contain("   at "), "no stack trace");
    }

    [Test]
    public void CorruptWeightsAreNamed()
    {
        string dir = Path.Combine(_root, "corrupt");
        Directory.CreateDirectory(dir);
        foreach (var f in Directory.GetFiles(Model)) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        var path = Path.Combine(dir, "model.safetensors");
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..20000]);
        var r = NoirProcess.Run("generate", "--model", dir, "--prompt", "x");
        Assert.That(r.ExitCode, Is.EqualTo(2));
        Assert.That(r.Stderr, Does.Contain("noir: error: model.safetensors: truncated"));
    }
}
