using System.Text.Json.Nodes;
using NoirCode.Core.Generation;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Privacy.Keys;

namespace NoirCode.Privacy.Tests;

/// <summary>Homophonic INDVocab (key format 2): k rows per token, one picked per occurrence.</summary>
public class HomophonicKeysTests
{
    static (PrivacyKeys Keys, ModelConfig Config) Generate(int homophones, double epsilon = 13, byte[]? seed = null)
    {
        var config = ModelConfig.Load(Fixtures.Model);
        var (keys, _) = PrivacyKeys.Generate(PrivacyKeys.ReadEmbedding(Fixtures.Model, config).Values, config, ModelFingerprint.Of(Fixtures.Model),
            epsilon, seedKey: seed, homophones: homophones);
        return (keys, config);
    }

    [Test]
    public void NewKeysGetSixteenTablesWhereTheyFitInMemoryAndOneForLargeModels()
    {
        ModelConfig Shape(int vocab, int hidden) => new() { VocabSize = vocab, HiddenSize = hidden };
        Assert.That(PrivacyKeys.DefaultHomophones(Shape(8192, 256)), Is.EqualTo(16), "the bundled model: 16 tables are 128 MiB");
        Assert.That(PrivacyKeys.DefaultHomophones(Shape(32016, 1024)), Is.EqualTo(4), "4 tables of 125 MiB fit in 512 MiB");
        Assert.That(PrivacyKeys.DefaultHomophones(Shape(151936, 896)), Is.EqualTo(1), "Qwen2.5-Coder-0.5B: one table is 519 MiB");
        Assert.That(PrivacyKeys.DefaultHomophones(Shape(32016, 4096)), Is.EqualTo(1), "a 7B model: one table");
    }

    [Test]
    public void FormatTwoRoundTripsWithItsHomophonesAndTheComposedEpsilon()
    {
        var (keys, config) = Generate(4);
        string folder = Fixtures.NewFolder("keys");
        keys.Save(folder);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, PrivacyKeys.MetadataFile)))!;
        Assert.That((string?)json["format"], Is.EqualTo(PrivacyKeys.HomophonicFormat));
        Assert.That((int?)json["homophones"], Is.EqualTo(4));
        Assert.That((double?)json["total_epsilon"], Is.EqualTo(52), "four ε-IND tables of one embedding compose to 4ε");
        var loaded = PrivacyKeys.Load(folder, ModelFingerprint.Of(Fixtures.Model));
        Assert.That(loaded.Metadata.Homophones, Is.EqualTo(4));
        Assert.That(loaded.IndexedTable, Has.Length.EqualTo(4L * config.VocabSize * config.HiddenSize));
        Assert.That(loaded.IndexedTable, Is.EqualTo(keys.IndexedTable));
        // The exact ε composes over the tables too: each table's mechanism is the same, so k times one table's.
        var (single, _) = Generate(1);
        Assert.That(loaded.Metadata.ComposedEpsilon, Is.EqualTo(4 * single.Metadata.ComposedEpsilon!.Value).Within(1e-6));
    }

    [Test]
    public void TheFirstTableIsThePapersTableAndTheOthersAreIndependentDraws()
    {
        var seed = CtrRandom.NewKey();
        var (single, config) = Generate(1, seed: seed);
        var (four, _) = Generate(4, seed: seed);
        long rows = (long)config.VocabSize * config.HiddenSize;
        Assert.That(four.IndexedTable.AsSpan(0, (int)rows).SequenceEqual(single.IndexedTable), Is.True, "k = 1 keys are format 1's table");
        Assert.That(four.Permutation.Forward, Is.EqualTo(single.Permutation.Forward));
        for (int j = 1; j < 4; j++)
        {
            var table = four.IndexedTable.AsSpan((int)(j * rows), (int)rows);
            int same = 0;
            for (int i = 0; i < rows; i++) if (table[i] == single.IndexedTable[i]) same++;
            Assert.That(same, Is.LessThan(rows / 4), $"table {j} repeats table 0");
        }
    }

    [Test]
    public void FormatOneKeysStillLoadAsOneRowPerToken()
    {
        var (keys, _) = Generate(1);
        string folder = Fixtures.NewFolder("keys");
        keys.Save(folder);
        Assert.That(File.ReadAllText(Path.Combine(folder, PrivacyKeys.MetadataFile)), Does.Contain($"\"{PrivacyKeys.Format}\"").And.Not.Contain("homophones"));
        var loaded = PrivacyKeys.Load(folder, ModelFingerprint.Of(Fixtures.Model));
        Assert.That(loaded.Metadata.Homophones, Is.EqualTo(1));
        Assert.That(loaded.Mapping(), Is.SameAs(loaded.Permutation));
    }

    [TestCase("\"format\": \"noir-keys/9\"", "unknown key format")]
    [TestCase("\"homophones\": 0", "0 homophones")]
    [TestCase("\"homophones\": 3", "does not match")]
    [TestCase(null, "without its homophone count")]
    public void CorruptOrForeignKeysAreRefusedWithTheReason(string? replacement, string reason)
    {
        var (keys, _) = Generate(4);
        string folder = Fixtures.NewFolder("keys");
        keys.Save(folder);
        string path = Path.Combine(folder, PrivacyKeys.MetadataFile);
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        if (replacement == null) json.Remove("homophones");
        else
        {
            var edit = JsonNode.Parse("{" + replacement + "}")!.AsObject().Single();
            json[edit.Key] = edit.Value!.DeepClone();
        }
        File.WriteAllText(path, json.ToJsonString());
        var e = Assert.Throws<IOException>(() => PrivacyKeys.Load(folder, ModelFingerprint.Of(Fixtures.Model)));
        Assert.That(e!.Message, Does.Contain(reason));
    }

    [Test]
    public void EachOccurrencePicksOneOfTheTokensRowsAndTheOutputsStayThoseOfItsIndex()
    {
        // With ε so large that every table keeps the public embedding, all k rows of a token are equal: the
        // homophonic session must then give exactly the LTokenizer session's logits, whatever rows it picked.
        var (keys, config) = Generate(4, epsilon: 1e7);
        using var single = ClientModel.Load(Fixtures.Model, untieHead: true);
        using var homophonic = ClientModel.Load(Fixtures.Model, untieHead: true);
        using var cloud = CloudShard.Load(Fixtures.Model);
        var singleMapping = keys.Permutation;
        ApplyFirstTableOnly(keys, single);
        var mapping = keys.ApplyTo(homophonic);
        Assert.That(homophonic.Embedding.Weight.shape, Is.EqualTo(new long[] { 4L * config.VocabSize, config.HiddenSize }));
        var rows = Enumerable.Range(0, 400).Select(_ => mapping.ToInputIndex(7)).ToHashSet();
        Assert.That(rows, Is.EquivalentTo(Enumerable.Range(0, 4).Select(j => keys.Permutation.ToIndex(7) + j * config.VocabSize)), "every row is used, none of another token's");
        Assert.That(mapping.ToIndex(7), Is.EqualTo(keys.Permutation.ToIndex(7)), "the head's index is the LTokenizer's");
        var ids = single.Tokenizer.Encode("def add(a, b):\n    return a + b + a + b");
        using var a = new SplitSession(single, new LocalMiddleSession(cloud), singleMapping);
        using var b = new SplitSession(homophonic, new LocalMiddleSession(cloud), mapping);
        var expected = a.Append(ids);
        var actual = b.Append(ids);
        for (int t = 0; t < config.VocabSize; t++) Assert.That(actual[t], Is.EqualTo(expected[t]).Within(1e-5));
    }

    static void ApplyFirstTableOnly(PrivacyKeys keys, ClientModel client)
    {
        using var _ = TorchSharp.torch.no_grad();
        long rows = (long)keys.Metadata.VocabSize * keys.Metadata.HiddenSize;
        using var table = TorchSharp.torch.tensor(keys.IndexedTable.AsSpan(0, (int)rows).ToArray(), new long[] { keys.Metadata.VocabSize, keys.Metadata.HiddenSize });
        client.Embedding.Weight.copy_(table);
    }
}
