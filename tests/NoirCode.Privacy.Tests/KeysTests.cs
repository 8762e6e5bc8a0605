using NoirCode.Core.Generation;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Privacy.Keys;

namespace NoirCode.Privacy.Tests;

public class KeysTests
{
    static (PrivacyKeys Keys, string Folder) MakeKeys(double epsilon = 13, string? model = null)
    {
        model ??= Fixtures.Model;
        var config = ModelConfig.Load(model);
        var (keys, _) = PrivacyKeys.Generate(PrivacyKeys.ReadEmbedding(model, config).Values, config, ModelFingerprint.Of(model), epsilon);
        string folder = Fixtures.NewFolder("keys");
        keys.Save(folder);
        return (keys, folder);
    }

    [Test]
    public void KeysAreOwnerOnlyAndRoundTrip()
    {
        var (keys, folder) = MakeKeys();
        Assert.That(File.GetUnixFileMode(folder), Is.EqualTo(SecureFiles.OwnerFolder));
        foreach (var f in Directory.GetFiles(folder))
            Assert.That(File.GetUnixFileMode(f), Is.EqualTo(SecureFiles.OwnerFile), f);
        Assert.That(Directory.GetFiles(folder).Select(Path.GetFileName), Is.EquivalentTo(new[] { PrivacyKeys.MetadataFile, PrivacyKeys.TablesFile }));
        var loaded = PrivacyKeys.Load(folder, ModelFingerprint.Of(Fixtures.Model));
        Assert.That(loaded.IndexedTable, Is.EqualTo(keys.IndexedTable));
        Assert.That(loaded.Permutation.Forward, Is.EqualTo(keys.Permutation.Forward));
        Assert.That(loaded.Metadata.Epsilon, Is.EqualTo(13));
        Assert.That(loaded.Metadata.ModelFingerprint, Does.StartWith("sha256:"));
        // keys.json records the table's true ε (exact per-column worst ratios, composed) beside the ε asked for.
        Assert.That(loaded.Metadata.ComposedEpsilon, Is.EqualTo(keys.Metadata.ComposedEpsilon).And.GreaterThan(0));
        Assert.That(File.ReadAllText(Path.Combine(folder, PrivacyKeys.MetadataFile)), Does.Contain("\"composed_epsilon\""));
        Assert.Throws<IOException>(() => keys.Save(folder), "keys are never overwritten");
    }

    [Test]
    public void TablesStoredInTheEmbeddingsOwnDtypeAreLossless()
    {
        string bf16Model = Fixtures.NewFolder("bf16-model");
        RandomModelFactory.Create(bf16Model, "tiny", seed: 5, dtype: "BF16");
        var config = ModelConfig.Load(bf16Model);
        var (embedding, dtype) = PrivacyKeys.ReadEmbedding(bf16Model, config);
        Assert.That(dtype, Is.EqualTo("BF16"));
        var (keys, _) = PrivacyKeys.Generate(embedding, config, ModelFingerprint.Of(bf16Model), 13, tableDtype: dtype);
        string folder = Fixtures.NewFolder("keys");
        keys.Save(folder);
        var loaded = PrivacyKeys.Load(folder, ModelFingerprint.Of(bf16Model));
        Assert.That(loaded.TableDtype, Is.EqualTo("BF16"));
        Assert.That(loaded.IndexedTable, Is.EqualTo(keys.IndexedTable), "ARR only copies bf16 values, so bf16 storage loses nothing");
        Assert.That(new FileInfo(Path.Combine(folder, PrivacyKeys.TablesFile)).Length, Is.LessThan(config.VocabSize * config.HiddenSize * 3L));
    }

    [Test]
    public void KeysMadeForAnotherModelAreRefused()
    {
        string other = Fixtures.NewFolder("other-model");
        RandomModelFactory.Create(other, "tiny", seed: 42);
        var (_, folder) = MakeKeys(model: other);
        var e = Assert.Throws<KeyMismatchException>(() => PrivacyKeys.Load(folder, ModelFingerprint.Of(Fixtures.Model)))!;
        Assert.That(e.Message, Does.Contain("were made for another model").And.Contain("noir keygen"));
    }

    [Test]
    public void KeysReadableByOthersAreRefused()
    {
        var (_, folder) = MakeKeys();
        File.SetUnixFileMode(Path.Combine(folder, PrivacyKeys.TablesFile), SecureFiles.OwnerFile | UnixFileMode.GroupRead);
        var e = Assert.Throws<UnauthorizedAccessException>(() => PrivacyKeys.Load(folder, ModelFingerprint.Of(Fixtures.Model)))!;
        Assert.That(e.Message, Does.Contain("chmod 600"));
    }

    [Test]
    public void KeyedSessionPermutesInputsAndReadsOutputsThroughTheInverse()
    {
        // With ε so large that INDVocab keeps every feature, the keyed client differs from the plain one only
        // by LTokenizer: the same hidden states, and token t scoring what index π(t) scored.
        var config = ModelConfig.Load(Fixtures.Model);
        var (keys, _) = PrivacyKeys.Generate(PrivacyKeys.ReadEmbedding(Fixtures.Model, config).Values, config, "test", epsilon: 1e7);
        Assert.That(keys.Metadata.KeepRate, Is.EqualTo(1.0));
        using var plain = ClientModel.Load(Fixtures.Model, untieHead: true);
        using var keyed = ClientModel.Load(Fixtures.Model, untieHead: true);
        using var cloud = CloudShard.Load(Fixtures.Model);
        var mapping = keys.ApplyTo(keyed);
        var ids = plain.Tokenizer.Encode("def add(a, b):\n    return a + b");
        using var a = new SplitSession(plain, new LocalMiddleSession(cloud));
        using var b = new SplitSession(keyed, new LocalMiddleSession(cloud), mapping);
        var plainLogits = a.Append(ids);
        var keyedLogits = b.Append(ids);
        for (int t = 0; t < config.VocabSize; t++)
            Assert.That(keyedLogits[t], Is.EqualTo(plainLogits[keys.Permutation.ToIndex(t)]).Within(1e-5));
    }

    [Test]
    public void ApplyingKeysReplacesTheEmbeddingButNotTheHead()
    {
        var (keys, _) = MakeKeys();
        using var tied = ClientModel.Load(Fixtures.Model);
        Assert.Throws<InvalidOperationException>(() => keys.ApplyTo(tied), "a tied head would change with the embedding");
        using var client = ClientModel.Load(Fixtures.Model, untieHead: true);
        using var headBefore = client.Head.NamedWeights().Single(w => w.Name == ModelLayout.LmHead).P.detach().clone();
        keys.ApplyTo(client);
        Assert.That(client.Embedding.Weight.data<float>().ToArray(), Is.EqualTo(keys.IndexedTable));
        var headAfter = client.Head.NamedWeights().Single(w => w.Name == ModelLayout.LmHead).P;
        Assert.That((headAfter == headBefore).all().item<bool>(), Is.True);
    }
}
