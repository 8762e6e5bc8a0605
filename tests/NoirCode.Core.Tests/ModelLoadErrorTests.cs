using System.Text.Json.Nodes;
using NoirCode.Core.Model;
using NoirCode.Core.Util;
using NoirCode.Core.Weights;

namespace NoirCode.Core.Tests;

/// <summary>Every broken model folder gives one clear message naming the file and the problem.</summary>
public class ModelLoadErrorTests
{
    static string Load(string dir) => Assert.Throws<ModelLoadException>(() => CausalLM.Load(dir).Dispose())!.Message;

    static void EditConfig(string dir, Action<JsonObject> edit)
    {
        string path = Path.Combine(dir, "config.json");
        var o = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(o);
        File.WriteAllText(path, o.ToJsonString());
    }

    [Test]
    public void MissingFolder() => Assert.That(Load("/nonexistent/model"), Does.Contain("does not exist"));

    [Test]
    public void MissingConfig()
    {
        string dir = TestModels.CopyOf();
        File.Delete(Path.Combine(dir, "config.json"));
        Assert.That(Load(dir), Does.StartWith("config.json: missing"));
    }

    [Test]
    public void UnknownArchitecture()
    {
        string dir = TestModels.CopyOf();
        EditConfig(dir, o => o["architectures"] = new JsonArray("GPT2LMHeadModel"));
        Assert.That(Load(dir), Does.StartWith("config.json: architecture 'GPT2LMHeadModel' is not supported"));
    }

    [Test]
    public void UnsupportedRopeScaling()
    {
        string dir = TestModels.CopyOf();
        EditConfig(dir, o => o["rope_scaling"] = new JsonObject { ["type"] = "yarn", ["factor"] = 4 });
        Assert.That(Load(dir), Does.StartWith("config.json: rope_scaling type 'yarn' is not supported"));
    }

    [Test]
    public void MissingWeights()
    {
        string dir = TestModels.CopyOf();
        File.Delete(Path.Combine(dir, WeightFolder.SingleFile));
        Assert.That(Load(dir), Does.StartWith("model.safetensors: missing"));
    }

    [Test]
    public void MissingShardListedInIndex()
    {
        string dir = TestModels.CopyOf();
        File.WriteAllText(Path.Combine(dir, WeightFolder.IndexFile), """{"weight_map": {"model.norm.weight": "model-00002-of-00002.safetensors"}}""");
        Assert.That(Load(dir), Does.StartWith("model-00002-of-00002.safetensors: missing: listed in model.safetensors.index.json"));
    }

    [Test]
    public void TruncatedWeights()
    {
        string dir = TestModels.CopyOf();
        string path = Path.Combine(dir, WeightFolder.SingleFile);
        byte[] whole = File.ReadAllBytes(path);
        File.WriteAllBytes(path, whole[..(whole.Length / 2)]);
        Assert.That(Load(dir), Does.StartWith("model.safetensors: truncated: tensor '"));
        File.WriteAllBytes(path, whole[..5000]); // cut inside the JSON header
        Assert.That(Load(dir), Does.StartWith("model.safetensors: corrupt or truncated: header length"));
    }

    [Test]
    public void ShapeMismatch()
    {
        string dir = TestModels.CopyOf();
        EditConfig(dir, o => o["intermediate_size"] = 200);
        Assert.That(Load(dir), Does.StartWith("model.safetensors: tensor 'model.layers.0.mlp.gate_proj.weight' has shape [176, 64] but config.json implies [200, 64]"));
    }

    [Test]
    public void MissingTensor()
    {
        string dir = TestModels.CopyOf();
        var weights = WeightFolder.Open(dir);
        var kept = weights.Entries.Where(e => e.Name != "model.layers.3.mlp.up_proj.weight")
            .Select(e => TensorData.Of(e.Name, e.Dtype, e.Shape, weights.ReadRaw(e.Name))).ToList();
        SafetensorsFile.Write(Path.Combine(dir, WeightFolder.SingleFile), kept);
        Assert.That(Load(dir), Does.StartWith("model.safetensors: tensor 'model.layers.3.mlp.up_proj.weight' is missing"));
    }

    [Test]
    public void MissingTokenizer()
    {
        string dir = TestModels.CopyOf();
        File.Delete(Path.Combine(dir, "tokenizer.json"));
        Assert.That(Load(dir), Does.StartWith("tokenizer.json: missing"));
    }

    [Test]
    public void CorruptTokenizer()
    {
        string dir = TestModels.CopyOf();
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), "{\"model\": {\"type\": \"Unigram\"}}");
        Assert.That(Load(dir), Does.StartWith("tokenizer.json: model type 'Unigram' is not supported"));
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), "{ truncated");
        Assert.That(Load(dir), Does.StartWith("tokenizer.json: not valid JSON"));
    }

    [Test]
    public void TokenizerLargerThanVocabulary()
    {
        string dir = TestModels.CopyOf();
        EditConfig(dir, o => o["vocab_size"] = 100);
        Assert.That(Load(dir), Does.Contain("vocab_size is 100"));
    }
}
