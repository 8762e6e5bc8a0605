using NoirCode.Core.Model;
using NoirCode.Core.Util;
using NoirCode.Core.Weights;
using static TorchSharp.torch;

namespace NoirCode.Core.Tests;

public class SafetensorsTests
{
    [TestCase(ScalarType.Float32)]
    [TestCase(ScalarType.Float16)]
    [TestCase(ScalarType.BFloat16)]
    public void RoundTripKeepsEveryBit(ScalarType dtype)
    {
        using var original = randn(3, 5, 7).to(dtype);
        string dir = TestModels.NewFolder("st");
        string name = TensorBytes.ToDtypeName(dtype);
        WeightFolderWriter.Write(dir, new[] { TensorData.Of("a.weight", name, original.shape, TensorBytes.ToBytes(original, dtype)) });
        var folder = WeightFolder.Open(dir);
        var (entry, data) = folder.Read("a.weight", new long[] { 3, 5, 7 });
        Assert.That(entry.Dtype, Is.EqualTo(name));
        using var back = TensorBytes.FromBytes(data, entry.Dtype, entry.Shape, dtype);
        Assert.That((back == original).all().item<bool>(), Is.True);
    }

    [Test]
    public void ShardedFolderIsWrittenWithIndexAndReadBack()
    {
        string dir = TestModels.NewFolder("sharded");
        var tensors = Enumerable.Range(0, 5).Select(i => TensorData.Of($"t{i}", "F32", new long[] { 100 }, BitConverter.GetBytes((float)i).Concat(new byte[396]).ToArray())).ToList();
        WeightFolderWriter.Write(dir, tensors, maxShardBytes: 900);
        Assert.That(File.Exists(Path.Combine(dir, WeightFolder.IndexFile)), Is.True);
        Assert.That(Directory.GetFiles(dir, "model-*-of-*.safetensors"), Has.Length.EqualTo(3));
        var folder = WeightFolder.Open(dir);
        Assert.That(folder.Names.Order(), Is.EqualTo(tensors.Select(t => t.Name)));
        Assert.That(BitConverter.ToSingle(folder.ReadRaw("t4"), 0), Is.EqualTo(4f));
    }

    [Test]
    public void ShardedModelLoadsAndMatchesTheSingleFileModel()
    {
        string single = TestModels.Get();
        string sharded = TestModels.CopyOf();
        File.Delete(Path.Combine(sharded, WeightFolder.SingleFile));
        var weights = WeightFolder.Open(single);
        WeightFolderWriter.Write(sharded, weights.Entries.Select(e => TensorData.Lazy(e.Name, e.Dtype, e.Shape, () => weights.ReadRaw(e.Name))).ToList(), maxShardBytes: 200_000);
        Assert.That(Directory.GetFiles(sharded, "model-*.safetensors").Length, Is.GreaterThan(1));
        using var a = CausalLM.Load(single);
        using var b = CausalLM.Load(sharded);
        using var ids = tensor(new long[] { 1, 2, 3, 4 }).unsqueeze(0);
        using var la = a.Forward(ids, arange(4));
        using var lb = b.Forward(ids, arange(4));
        Assert.That((la == lb).all().item<bool>(), Is.True);
        Assert.That(ModelFingerprint.Of(sharded), Is.EqualTo(ModelFingerprint.Of(single)), "the fingerprint does not depend on file layout");
    }

    [Test]
    public void TruncatedFileIsReportedByName()
    {
        string dir = TestModels.CopyOf();
        string path = Path.Combine(dir, WeightFolder.SingleFile);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 100)]);
        var e = Assert.Throws<ModelLoadException>(() => WeightFolder.Open(dir))!;
        Assert.That(e.Message, Does.StartWith("model.safetensors: truncated"));
    }

    [Test]
    public void CorruptHeaderIsReportedByName()
    {
        string dir = TestModels.NewFolder("corrupt");
        string path = Path.Combine(dir, WeightFolder.SingleFile);
        File.WriteAllBytes(path, BitConverter.GetBytes(10L).Concat("{not json!"u8.ToArray()).ToArray());
        Assert.That(Assert.Throws<ModelLoadException>(() => WeightFolder.Open(dir))!.Message, Does.StartWith("model.safetensors: corrupt header"));
        File.WriteAllBytes(path, BitConverter.GetBytes(1L << 40).Concat(new byte[16]).ToArray());
        Assert.That(Assert.Throws<ModelLoadException>(() => WeightFolder.Open(dir))!.Message, Does.Contain("header length"));
        File.WriteAllBytes(path, new byte[3]);
        Assert.That(Assert.Throws<ModelLoadException>(() => WeightFolder.Open(dir))!.Message, Does.Contain("truncated"));
    }
}
