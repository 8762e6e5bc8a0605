using System.Text.Json;
using System.Text.Json.Nodes;
using NoirCode.Core.Model;
using NoirCode.Core.Tokenization;
using NoirCode.Core.Util;
using NoirCode.Core.Weights;
using NoirCode.Training;
using NoirCode.Core.Training;

// noir-train prepare|train|export: the bundled default model, from corpus to Hugging Face folder.
var argsList = args.ToList();
string Arg(string name, string? fallback = null)
{
    int i = argsList.IndexOf(name);
    return i >= 0 && i + 1 < argsList.Count ? argsList[i + 1] : fallback ?? throw new ArgumentException($"missing {name}");
}
double Number(string name, string fallback) => double.Parse(Arg(name, fallback), System.Globalization.CultureInfo.InvariantCulture);
string command = args.FirstOrDefault() ?? "help";
string run = Arg("--run", "artifacts/train/default");
try
{
    switch (command)
    {
        case "prepare": Prepare(); break;
        case "train":
            new PretrainRun(run).Train(new PretrainRun.Settings(
                Steps: int.Parse(Arg("--steps", "3000")), Batch: int.Parse(Arg("--batch", "8")), SequenceLength: int.Parse(Arg("--seq", "512")),
                LearningRate: Number("--lr", "0.002"),
                MinutesThisSitting: Number("--minutes", "100000"), Seed: 7,
                FrozenBlocks: argsList.Contains("--freeze-encoder") ? int.Parse(Arg("--freeze-encoder")) : -1,
                FimRate: Number("--fim-rate", "0.5"),
                RestOfLineShare: Number("--rest-of-line", "0")), new StderrProgress());
            break;
        case "export": Export(); break;
        case "heldout": HeldOut(); break;
        default:
            Console.Error.WriteLine("usage: noir-train prepare [--run DIR] [--pyenv DIR] [--vocab N | --tokenizer-from MODEL] [--with-tests] [--with-debian] [--init-from MODEL] [--hidden N --layers N --heads N --kv-heads N --intermediate N] | train [--run DIR] [--steps N] [--minutes M] [--lr X] [--freeze-encoder BLOCKS] [--fim-rate R] [--rest-of-line S] | export [--run DIR] --out models/NAME | heldout --model DIR [--run DIR] [--seq N]");
            return 2;
    }
    return 0;
}
catch (Exception e) when (e is ArgumentException or IOException or ModelLoadException)
{
    Console.Error.WriteLine($"noir-train: error: {e.Message}");
    return 2;
}

void Prepare()
{
    string pyenv = Arg("--pyenv", Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".pyenv", "versions"));
    string benchmarks = Arg("--benchmarks", Path.Combine("..", "shared", "benchmarks"));
    int vocab = int.Parse(Arg("--vocab", "8192"));
    var benchFiles = Directory.GetFiles(benchmarks, "*.jsonl.gz");
    if (benchFiles.Length == 0) throw new IOException($"no benchmark files in {benchmarks} to filter the corpus against");
    bool withTests = argsList.Contains("--with-tests");
    var debian = argsList.Contains("--with-debian") ? DebianPythonSources.Collect() : null;
    var corpus = PythonCorpus.Build(pyenv, benchFiles, withTests, debian?.Files);
    Directory.CreateDirectory(run);
    File.WriteAllText(Path.Combine(run, "train.txt"), string.Join("\u0000", corpus.Train.Select(t => t.Text)));
    File.WriteAllText(Path.Combine(run, "heldout.txt"), string.Join("\u0000", corpus.HeldOut.Select(t => t.Text)));
    Console.Error.WriteLine($"corpus: {corpus.Train.Count} training modules ({corpus.Train.Sum(t => t.Text.Length) / 1e6:F1} MB), {corpus.HeldOut.Count} held out ({corpus.HeldOut.Sum(t => t.Text.Length) / 1e6:F1} MB), " +
        $"{corpus.DuplicateVersions} duplicates across versions {string.Join(", ", corpus.Versions)}, {corpus.DroppedForBenchmarkOverlap} dropped for benchmark overlap, " +
        $"{corpus.DroppedForHeldOutOverlap} for held-out overlap");
    if (debian != null)
        Console.Error.WriteLine($"Debian packages: {debian.Packages.Count(p => p.Kept)} kept ({debian.Files.Count} files), {debian.Packages.Count(p => !p.Kept)} left out for their licence");

    string model = Path.Combine(run, "model");
    if (Directory.Exists(model)) Directory.Delete(model, true);
    Directory.CreateDirectory(model);
    int eos;
    string? initFrom = argsList.Contains("--init-from") ? Arg("--init-from") : null;
    if (initFrom != null || argsList.Contains("--tokenizer-from"))
    {
        // Reusing a tokenizer keeps token ids (and held-out losses) comparable with the model it came from.
        string from = initFrom ?? Arg("--tokenizer-from");
        foreach (var f in new[] { "tokenizer.json", "tokenizer_config.json" }) File.Copy(Path.Combine(from, f), Path.Combine(model, f));
        var tok = CodeTokenizer.Load(model);
        vocab = tok.IdCount;
        eos = tok.SpecialId("<|endoftext|>");
    }
    else
    {
        Console.Error.WriteLine($"training a {vocab}-token byte-level BPE...");
        var bpe = BpeTrainer.Train(corpus.Train.Select(t => t.Text), vocab - TokenizerJsonWriter.DefaultSpecials.Length);
        eos = TokenizerJsonWriter.Write(model, bpe, maxLength: 1024)["<|endoftext|>"];
    }
    if (initFrom != null)
    {
        // Continued pre-training: the model's own config and weights, in float32 so checkpoints keep full precision.
        WriteWeightsAs(initFrom, model, "F32", "float32");
        WriteStats(corpus, debian, vocab, withTests, initFrom);
        Console.Error.WriteLine($"prepared {run}: continues from {initFrom}");
        return;
    }
    int hidden = int.Parse(Arg("--hidden", "256")), heads = int.Parse(Arg("--heads", "8"));
    var config = new ModelConfig
    {
        Architecture = "LlamaForCausalLM", VocabSize = vocab, HiddenSize = hidden, IntermediateSize = int.Parse(Arg("--intermediate", "704")),
        NumLayers = int.Parse(Arg("--layers", "8")), NumHeads = heads, NumKvHeads = int.Parse(Arg("--kv-heads", (heads / 2).ToString())),
        HeadDim = hidden / heads, RmsNormEps = 1e-5, RopeTheta = 10000, MaxPositions = 1024,
        TieWordEmbeddings = true, EosTokenIds = new[] { eos }, BosTokenId = null,
    };
    RandomModelFactory.WriteConfigAndWeights(model, config, seed: 7, forTraining: true);
    WriteStats(corpus, debian, vocab, withTests, initFrom: null);
    Console.Error.WriteLine($"prepared {run}: tokenizer and initial model in {model}");
}

void WriteStats(PythonCorpus corpus, DebianPythonSources.Result? debian, int vocab, bool withTests, string? initFrom)
{
    var stats = new JsonObject
    {
        ["train_modules"] = corpus.Train.Count, ["train_chars"] = corpus.Train.Sum(t => (long)t.Text.Length),
        ["heldout_modules"] = new JsonArray(PythonCorpus.HeldOutModules.Select(m => (JsonNode)m).ToArray()),
        ["heldout_files"] = corpus.HeldOut.Count, ["heldout_chars"] = corpus.HeldOut.Sum(t => (long)t.Text.Length),
        ["python_versions"] = new JsonArray(corpus.Versions.Select(v => (JsonNode)v).ToArray()),
        ["duplicates_removed"] = corpus.DuplicateVersions, ["dropped_for_benchmark_overlap"] = corpus.DroppedForBenchmarkOverlap,
        ["dropped_for_heldout_overlap"] = corpus.DroppedForHeldOutOverlap,
        ["vocab"] = vocab, ["with_stdlib_tests"] = withTests, ["init_from"] = initFrom,
        ["debian_chars"] = corpus.Train.Where(t => t.Module.StartsWith("debian/", StringComparison.Ordinal)).Sum(t => (long)t.Text.Length),
        ["debian_packages"] = debian == null ? null : new JsonArray(debian.Packages.Select(p => (JsonNode)new JsonObject
        {
            ["package"] = p.Name, ["licence"] = p.Licence, ["kept"] = p.Kept, ["python_files"] = p.Files, ["why"] = p.Why,
        }).ToArray()),
    };
    File.WriteAllText(Path.Combine(run, "corpus.json"), stats.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
}

// The held-out loss of any whole model on the run's held-out modules: 64 fixed plain-text windows, as training reports it.
void HeldOut()
{
    string modelDir = Arg("--model");
    int seq = int.Parse(Arg("--seq", "512"));
    using var model = CausalLM.Load(modelDir);
    var docs = File.ReadAllText(Path.Combine(run, "heldout.txt")).Split("\u0000", StringSplitOptions.RemoveEmptyEntries).ToList();
    double loss = PretrainRun.Evaluate(model, new FimSampler(docs, model.Tokenizer, seq), new PretrainRun.Settings(0, 8, seq, 0, 0, 0));
    Console.WriteLine($"{{\"model\": \"{modelDir}\", \"seq\": {seq}, \"heldout_loss\": {loss:F4}}}");
}

void Export()
{
    string output = Arg("--out");
    var source = new PretrainRun(run).LatestWeights();
    Directory.CreateDirectory(output);
    foreach (var f in new[] { "tokenizer.json", "tokenizer_config.json" })
        File.Copy(Path.Combine(source, f), Path.Combine(output, f), overwrite: true);
    // bf16 halves the size; the engine computes in float32 either way.
    WriteWeightsAs(source, output, "BF16", "bfloat16");
    Console.Error.WriteLine($"exported {source} to {output}");
}

// A model's config.json and weights into another folder, every tensor stored as dtype (config's torch_dtype to match).
static void WriteWeightsAs(string from, string to, string dtype, string torchDtype)
{
    var config = JsonNode.Parse(File.ReadAllText(Path.Combine(from, "config.json")))!.AsObject();
    config["torch_dtype"] = torchDtype;
    File.WriteAllText(Path.Combine(to, "config.json"), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    var weights = WeightFolder.Open(from);
    WeightFolderWriter.Write(to, weights.Entries.Select(e => TensorData.OfFloats(e.Name, dtype, e.Shape, weights.ReadFloats(e.Name, e.Shape).Values)).ToList());
}
