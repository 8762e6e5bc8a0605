using System.Reflection;
using System.Text.Json;
using NoirCode.Core.Tokenization;
using NoirCode.Core.Weights;

namespace NoirCode.Core.Model;

/// <summary>
/// Writes a real Hugging Face-format folder (config.json, model.safetensors, tokenizer.json with FIM tokens)
/// with random weights, for tests and checks. Weights have unit-scale activations (std 1/√fan_in) so that
/// attention patterns are far from uniform and bugs in masking or positions show in the logits.
/// </summary>
public static class RandomModelFactory
{
    public static readonly IReadOnlyDictionary<string, string> Presets = new Dictionary<string, string>
    {
        ["tiny"] = "Qwen2-style: q/k/v bias, tied head, GQA 4:2, 6 layers, d=64",
        ["tiny-llama"] = "Llama-style: untied head, no bias, MQA 4:1, llama3 rope scaling, 6 layers, d=64",
        ["qwen2.5-coder-0.5b-shape"] = "Qwen2.5-Coder-0.5B's published shape (24 layers, d=896, GQA 14:2, |V| 151,936, tied): 494 M parameters, for benchmarks",
    };

    public static ModelConfig PresetConfig(string preset, int vocabSize, int eosId) => preset switch
    {
        "tiny" => new ModelConfig
        {
            Architecture = "Qwen2ForCausalLM", VocabSize = vocabSize, HiddenSize = 64, IntermediateSize = 176, NumLayers = 6,
            NumHeads = 4, NumKvHeads = 2, HeadDim = 16, RmsNormEps = 1e-6, RopeTheta = 10000, MaxPositions = 512,
            TieWordEmbeddings = true, QkvBias = true, EosTokenIds = new[] { eosId },
        },
        "tiny-llama" => new ModelConfig
        {
            Architecture = "LlamaForCausalLM", VocabSize = vocabSize, HiddenSize = 64, IntermediateSize = 160, NumLayers = 6,
            NumHeads = 4, NumKvHeads = 1, HeadDim = 16, RmsNormEps = 1e-5, RopeTheta = 500000, MaxPositions = 1024,
            RopeScaling = new RopeScaling("llama3", 8, 1, 4, 64), TieWordEmbeddings = false, EosTokenIds = new[] { eosId },
        },
        // The embedding keeps the real model's 151,936 rows whatever the tokenizer (ids past it are never produced),
        // so that the head costs what it costs in the real model.
        "qwen2.5-coder-0.5b-shape" => new ModelConfig
        {
            Architecture = "Qwen2ForCausalLM", VocabSize = Math.Max(vocabSize, 151936), HiddenSize = 896, IntermediateSize = 4864, NumLayers = 24,
            NumHeads = 14, NumKvHeads = 2, HeadDim = 64, RmsNormEps = 1e-6, RopeTheta = 1000000, MaxPositions = 32768,
            TieWordEmbeddings = true, QkvBias = true, EosTokenIds = new[] { eosId },
        },
        _ => throw new ArgumentException($"unknown preset '{preset}'; presets: {string.Join(", ", Presets.Keys)}"),
    };

    public static ModelConfig Create(string folder, string preset = "tiny", int seed = 1, string dtype = "F32", int tokenizerVocab = 512)
    {
        if (dtype is not ("F32" or "BF16" or "F16")) throw new ArgumentException($"unknown dtype {dtype} (use F32, F16 or BF16)");
        if (Directory.Exists(folder) && Directory.EnumerateFileSystemEntries(folder).Any())
            throw new IOException($"output folder {folder} is not empty; choose a new folder");
        Directory.CreateDirectory(folder);
        var bpe = BpeTrainer.Train(new[] { SampleCorpus() }, tokenizerVocab, minPairCount: 1);
        var specials = TokenizerJsonWriter.Write(folder, bpe);
        int idCount = bpe.Vocabulary.Count + specials.Count;
        var config = PresetConfig(preset, (idCount + 7) / 8 * 8, specials["<|endoftext|>"]) with { TorchDtype = dtype switch { "BF16" => "bfloat16", "F16" => "float16", _ => "float32" } };
        WriteConfigAndWeights(folder, config, seed, dtype, forTraining: false);
        return config;
    }

    /// <summary>
    /// Writes config.json and random weights. <paramref name="forTraining"/> picks the usual pre-training init
    /// (σ = 0.02, output projections scaled by 1/√(2·layers), unit norms, zero biases) instead of the test init.
    /// </summary>
    public static void WriteConfigAndWeights(string folder, ModelConfig config, int seed, string dtype = "F32", bool forTraining = false)
    {
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        var rng = new Random(seed);
        var tensors = ModelLayout.AllTensors(config).Select(t => TensorData.OfFloats(t.Name, dtype, t.Shape,
            forTraining ? TrainingInit(rng, t.Name, t.Shape, config.NumLayers) : TestInit(rng, t.Name, t.Shape))).ToList();
        WeightFolderWriter.Write(folder, tensors);
    }

    static float[] TestInit(Random rng, string name, long[] shape)
    {
        bool norm = name.EndsWith("norm.weight", StringComparison.Ordinal);
        bool bias = name.EndsWith(".bias", StringComparison.Ordinal);
        double std = norm ? 0.1 : bias ? 0.1 : name == ModelLayout.Embedding ? 1.0 : 1.0 / Math.Sqrt(shape[^1]);
        return Gaussian(rng, shape, norm ? 1 : 0, std);
    }

    static float[] TrainingInit(Random rng, string name, long[] shape, int layers)
    {
        if (name.EndsWith("norm.weight", StringComparison.Ordinal)) return Gaussian(rng, shape, 1, 0);
        if (name.EndsWith(".bias", StringComparison.Ordinal)) return Gaussian(rng, shape, 0, 0);
        bool residualOut = name.EndsWith("o_proj.weight", StringComparison.Ordinal) || name.EndsWith("down_proj.weight", StringComparison.Ordinal);
        return Gaussian(rng, shape, 0, residualOut ? 0.02 / Math.Sqrt(2 * layers) : 0.02);
    }

    static float[] Gaussian(Random rng, long[] shape, double mean, double std)
    {
        long n = shape.Aggregate(1L, (a, b) => a * b);
        var values = new float[n];
        for (long i = 0; i < n; i++)
        {
            double gaussian = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
            values[i] = (float)(mean + std * gaussian);
        }
        return values;
    }

    /// <summary>A few kilobytes of Python written for this project, enough to train a small byte-level BPE.</summary>
    public static string SampleCorpus()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("NoirCode.Core.Resources.sample_corpus.py")!;
        return new StreamReader(stream).ReadToEnd();
    }
}
