using System.Text.Json.Nodes;
using NoirCode.Core.Model;
using NoirCode.Privacy.Keys;

namespace NoirCode.Privacy.Tests;

/// <summary>
/// Demo keys published as a seed: the bundle ships keys.json alone and every machine derives the same tables from it,
/// checked against the digest it records; the option is closed to private keys.
/// </summary>
public class PublicSeedKeysTests
{
    const string Seed = "a published demo seed";

    static (PrivacyKeys Keys, ModelConfig Config, float[] Embedding, string Dtype) Generate(string seed = Seed, int homophones = 4)
    {
        var config = ModelConfig.Load(Fixtures.Model);
        var (embedding, dtype) = PrivacyKeys.ReadEmbedding(Fixtures.Model, config);
        var (keys, _) = PrivacyKeys.Generate(embedding, config, ModelFingerprint.Of(Fixtures.Model), 13, "demo", demo: true,
            tableDtype: dtype, homophones: homophones, publicSeed: seed);
        return (keys, config, embedding, dtype);
    }

    [Test]
    public void OneSeedGivesOneKeySetAndAnotherSeedAnother()
    {
        var (a, _, _, _) = Generate();
        var (b, _, _, _) = Generate();
        var (c, _, _, _) = Generate("another seed");
        Assert.That(b.IndexedTable, Is.EqualTo(a.IndexedTable));
        Assert.That(b.Permutation.Forward, Is.EqualTo(a.Permutation.Forward));
        Assert.That(b.Metadata.KeyId, Is.EqualTo(a.Metadata.KeyId), "named by their tables, so every derivation is the same key in the ledger");
        Assert.That(a.Metadata.TablesSha256, Does.StartWith(a.Metadata.KeyId));
        Assert.That(c.Metadata.KeyId, Is.Not.EqualTo(a.Metadata.KeyId));
        Assert.That(c.Permutation.Forward, Is.Not.EqualTo(a.Permutation.Forward));
    }

    [Test]
    public void KeysJsonAloneIsEnoughToDeriveTheTablesAgain()
    {
        var (keys, config, embedding, dtype) = Generate();
        string saved = Fixtures.NewFolder("keys");
        keys.Save(saved);
        var metadata = PrivacyKeys.ReadMetadata(saved);
        Assert.That(metadata.PublicSeed, Is.EqualTo(Seed));

        var derived = PrivacyKeys.FromPublicSeed(metadata, embedding, config, dtype);
        Assert.That(derived.IndexedTable, Is.EqualTo(keys.IndexedTable));
        Assert.That(derived.Metadata, Is.EqualTo(metadata), "the published keys.json is kept as it is (its id, date and label)");
        string installed = Fixtures.NewFolder("installed");
        derived.Save(installed);
        var loaded = PrivacyKeys.Load(installed, ModelFingerprint.Of(Fixtures.Model));
        Assert.That(loaded.IndexedTable, Is.EqualTo(keys.IndexedTable));
        Assert.That(loaded.Metadata.TablesSha256, Is.EqualTo(keys.Metadata.TablesSha256));
    }

    [Test]
    public void ADerivationThatDoesNotMatchTheRecordedDigestIsRefused()
    {
        var (keys, config, embedding, dtype) = Generate();
        var tampered = keys.Metadata with { TablesSha256 = new string('0', 64) };
        var e = Assert.Throws<IOException>(() => PrivacyKeys.FromPublicSeed(tampered, embedding, config, dtype));
        Assert.That(e!.Message, Does.Contain("do not match keys.json").And.Contain("tuned shard would not fit"));
        // Another model's embedding derives other tables: refused the same way.
        var other = (float[])embedding.Clone();
        other[0] += 1;
        Assert.Throws<IOException>(() => PrivacyKeys.FromPublicSeed(keys.Metadata, other, config, dtype));
    }

    [Test]
    public void PrivateKeysCannotHaveAPublicSeed()
    {
        var config = ModelConfig.Load(Fixtures.Model);
        var embedding = PrivacyKeys.ReadEmbedding(Fixtures.Model, config).Values;
        Assert.Throws<ArgumentException>(() => PrivacyKeys.Generate(embedding, config, ModelFingerprint.Of(Fixtures.Model), 13, publicSeed: Seed));
        Assert.Throws<InvalidOperationException>(() => PrivacyKeys.FromPublicSeed(
            PrivacyKeys.Generate(embedding, config, ModelFingerprint.Of(Fixtures.Model), 13).Keys.Metadata, embedding, config, "F32"));

        // A keys.json that claims a public seed without being demo keys is refused as corrupt.
        var (keys, _, _, _) = Generate();
        string folder = Fixtures.NewFolder("keys");
        keys.Save(folder);
        string path = Path.Combine(folder, PrivacyKeys.MetadataFile);
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        json["demo"] = false;
        File.WriteAllText(path, json.ToJsonString());
        var e = Assert.Throws<IOException>(() => PrivacyKeys.ReadMetadata(folder));
        Assert.That(e!.Message, Does.Contain("public seed must be demo keys"));
    }
}
