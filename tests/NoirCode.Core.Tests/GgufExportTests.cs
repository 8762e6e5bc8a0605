using System.Text;
using NoirCode.Core.Model;
using NoirCode.Core.Weights;

namespace NoirCode.Core.Tests;

/// <summary>
/// `noir model export-gguf`: the file read back by an independent reader of the GGUF layout, and the q/k reordering
/// checked against the RoPE maths it exists for. (llama.cpp itself runs on the export in `scripts/bench llamacpp`,
/// which compares its probabilities with ours; the tests do not install it.)
/// </summary>
public class GgufExportTests
{
    /// <summary>What a GGUF file holds, read without the writer's code.</summary>
    sealed record GgufFile(uint Version, Dictionary<string, object> Metadata, List<(string Name, ulong[] Dims, uint Type, ulong Offset)> Tensors, long DataStart, byte[] Bytes)
    {
        public float[] F32(string name)
        {
            var t = Tensors.Single(x => x.Name == name);
            Assert.That(t.Type, Is.EqualTo(0u), $"{name} is F32");
            long count = t.Dims.Aggregate(1L, (a, d) => a * (long)d);
            var values = new float[count];
            Buffer.BlockCopy(Bytes, (int)(DataStart + (long)t.Offset), values, 0, (int)count * 4);
            return values;
        }

        public static GgufFile Read(string path)
        {
            var bytes = File.ReadAllBytes(path);
            using var r = new BinaryReader(new MemoryStream(bytes));
            Assert.That(Encoding.ASCII.GetString(r.ReadBytes(4)), Is.EqualTo("GGUF"));
            uint version = r.ReadUInt32();
            ulong tensors = r.ReadUInt64(), kvs = r.ReadUInt64();
            string Str() => Encoding.UTF8.GetString(r.ReadBytes((int)r.ReadUInt64()));
            object Value(uint type) => type switch
            {
                4 => r.ReadUInt32(),
                5 => r.ReadInt32(),
                6 => r.ReadSingle(),
                7 => r.ReadBoolean(),
                8 => Str(),
                9 => ReadArray(),
                _ => throw new InvalidDataException($"value type {type}"),
            };
            object ReadArray()
            {
                uint type = r.ReadUInt32();
                ulong n = r.ReadUInt64();
                var items = new List<object>();
                for (ulong i = 0; i < n; i++) items.Add(Value(type));
                return items;
            }
            var metadata = new Dictionary<string, object>();
            for (ulong i = 0; i < kvs; i++) { string key = Str(); metadata[key] = Value(r.ReadUInt32()); }
            var infos = new List<(string, ulong[], uint, ulong)>();
            for (ulong i = 0; i < tensors; i++)
            {
                string name = Str();
                uint dims = r.ReadUInt32();
                var d = Enumerable.Range(0, (int)dims).Select(_ => r.ReadUInt64()).ToArray();
                infos.Add((name, d, r.ReadUInt32(), r.ReadUInt64()));
            }
            long start = (r.BaseStream.Position + 31) / 32 * 32;
            return new GgufFile(version, metadata, infos, start, bytes);
        }
    }

    [TestCase("tiny")]
    [TestCase("tiny-llama-no-scaling")]
    public void TheExportHoldsEveryTensorTheMetadataAndTheVocabulary(string preset)
    {
        string folder = preset == "tiny" ? TestModels.Get("tiny") : LlamaWithoutRopeScaling();
        var config = ModelConfig.Load(folder);
        string path = Path.Combine(Path.GetTempPath(), $"noir-gguf-{Guid.NewGuid():N}.gguf");
        try
        {
            GgufExport.Write(folder, path);
            var gguf = GgufFile.Read(path);
            bool qwen = config.Architecture == "Qwen2ForCausalLM";
            string arch = qwen ? "qwen2" : "llama";
            Assert.That(gguf.Version, Is.EqualTo(3u));
            Assert.That(gguf.Metadata["general.architecture"], Is.EqualTo(arch));
            Assert.That(gguf.Metadata[$"{arch}.block_count"], Is.EqualTo((uint)config.NumLayers));
            Assert.That(gguf.Metadata[$"{arch}.attention.head_count_kv"], Is.EqualTo((uint)config.NumKvHeads));
            Assert.That(gguf.Metadata[$"{arch}.rope.freq_base"], Is.EqualTo((float)config.RopeTheta));
            var tokens = (List<object>)gguf.Metadata["tokenizer.ggml.tokens"];
            Assert.That(tokens, Has.Count.EqualTo(config.VocabSize), "one token per embedding row");
            Assert.That(tokens[config.EosTokenIds[0]], Is.EqualTo("<|endoftext|>"));
            Assert.That(((List<object>)gguf.Metadata["tokenizer.ggml.merges"]).First(), Does.Contain(' '));
            Assert.That(gguf.Metadata["tokenizer.ggml.pre"], Is.EqualTo("qwen2"), "the test tokenizer uses Qwen2's pre-tokenizer regex");

            int expected = 1 + config.NumLayers * (9 + (config.QkvBias ? 3 : 0)) + 1 + (config.TieWordEmbeddings ? 0 : 1);
            Assert.That(gguf.Tensors, Has.Count.EqualTo(expected));
            Assert.That(gguf.Tensors.All(t => t.Offset % 32 == 0), Is.True, "every tensor aligned to 32 bytes");
            var embedding = gguf.Tensors.Single(t => t.Name == "token_embd.weight");
            Assert.That(embedding.Dims, Is.EqualTo(new[] { (ulong)config.HiddenSize, (ulong)config.VocabSize }), "fastest-varying dimension first");
            var weights = WeightFolder.Open(folder);
            Assert.That(gguf.F32("token_embd.weight"), Is.EqualTo(weights.ReadFloats(ModelLayout.Embedding, ModelLayout.EmbeddingShape(config)).Values));
            Assert.That(gguf.F32("blk.1.ffn_down.weight"), Is.EqualTo(weights.ReadFloats(ModelLayout.Layer(1, "mlp.down_proj.weight"), new long[] { config.HiddenSize, config.IntermediateSize }).Values));
            var q = weights.ReadFloats(ModelLayout.Layer(0, "self_attn.q_proj.weight"), new long[] { config.NumHeads * config.HeadDim, config.HiddenSize }).Values;
            Assert.That(gguf.F32("blk.0.attn_q.weight"), Is.EqualTo(qwen ? q : GgufExport.Interleave(q, config.NumHeads, config.HeadDim)),
                qwen ? "qwen2 keeps Hugging Face's rotate-half order" : "llama's q rows are interleaved");
            if (qwen) Assert.That(gguf.Tensors.Any(t => t.Name == "blk.0.attn_q.bias"), Is.True);
        }
        finally { File.Delete(path); }
    }

    static string LlamaWithoutRopeScaling()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"noir-llama-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        foreach (var f in Directory.GetFiles(TestModels.Get("tiny-llama"))) File.Copy(f, Path.Combine(folder, Path.GetFileName(f)));
        var config = ModelConfig.Load(folder) with { RopeScaling = null };
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJson().ToJsonString());
        return folder;
    }

    [Test]
    public void RopeScalingAShardAndAnUnknownDtypeAreRefusedClearly()
    {
        string path = Path.Combine(Path.GetTempPath(), $"noir-gguf-{Guid.NewGuid():N}.gguf");
        Assert.That(Assert.Throws<ArgumentException>(() => GgufExport.Write(TestModels.Get("tiny-llama"), path))!.Message, Does.Contain("RoPE scaling"));
        Assert.That(Assert.Throws<ArgumentException>(() => GgufExport.Write(TestModels.Get("tiny"), path, "q4"))!.Message, Does.Contain("unknown dtype"));
        Assert.That(File.Exists(path) || File.Exists(path + ".partial"), Is.False, "nothing written");
    }

    [Test]
    public void InterleavedRopeOnReorderedRowsIsRotateHalfRopeOnTheOriginals()
    {
        // q = W x rotated by rotate-half RoPE (Hugging Face) must equal, reordered, (Interleave(W) x) rotated by
        // interleaved RoPE (llama.cpp's llama): the reordering exists for exactly this.
        const int heads = 3, headDim = 8, input = 5, position = 7;
        var random = new Random(2);
        var w = Enumerable.Range(0, heads * headDim * input).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        var x = Enumerable.Range(0, input).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        double[] Project(float[] m) => Enumerable.Range(0, heads * headDim).Select(r => Enumerable.Range(0, input).Sum(c => (double)m[r * input + c] * x[c])).ToArray();
        double Theta(int j) => position * Math.Pow(10000, -2.0 * j / headDim);
        var hf = Project(w);
        var rotatedHf = new double[hf.Length];
        for (int h = 0; h < heads; h++)
            for (int j = 0; j < headDim / 2; j++)
            {
                int a = h * headDim + j, b = a + headDim / 2;
                rotatedHf[a] = hf[a] * Math.Cos(Theta(j)) - hf[b] * Math.Sin(Theta(j));
                rotatedHf[b] = hf[b] * Math.Cos(Theta(j)) + hf[a] * Math.Sin(Theta(j));
            }
        var cpp = Project(GgufExport.Interleave(w, heads, headDim));
        var rotatedCpp = new double[cpp.Length];
        for (int h = 0; h < heads; h++)
            for (int j = 0; j < headDim / 2; j++)
            {
                int a = h * headDim + 2 * j, b = a + 1;
                rotatedCpp[a] = cpp[a] * Math.Cos(Theta(j)) - cpp[b] * Math.Sin(Theta(j));
                rotatedCpp[b] = cpp[b] * Math.Cos(Theta(j)) + cpp[a] * Math.Sin(Theta(j));
            }
        var reordered = GgufExport.Interleave(rotatedHf.Select(v => (float)v).ToArray(), heads, headDim);
        Assert.That(rotatedCpp.Select(v => (float)v).ToArray(), Is.EqualTo(reordered).Within(1e-5f));
        Assert.That(GgufExport.Interleave(w, heads, headDim), Is.Not.EqualTo(w), "the reordering does something");
    }
}
