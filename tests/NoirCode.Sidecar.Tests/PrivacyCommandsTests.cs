using System.Text.Json;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Privacy.Keys;
using NoirCode.Privacy.Ledger;
using NoirCode.Remote;
using NoirCode.Sidecar.Lsp;
using NoirCode.STuning;

namespace NoirCode.Sidecar.Tests;

/// <summary>The privacy panel's sidecar commands: the ledger per day and key, and key rotation.</summary>
public class PrivacyCommandsTests
{
    string _root = "";

    [SetUp]
    public void Folder() => _root = Directory.CreateTempSubdirectory("noir-privacy-commands-").FullName;

    [TearDown]
    public void Clean() => Directory.Delete(_root, true);

    [Test]
    public void TheLedgerIsSummedPerDayAndKeyNewestFirstWithinTheDays()
    {
        var ledger = new ExposureLedger(Path.Combine(_root, "ledger"));
        var now = new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);
        ledger.Charge("ws-a", "k1", 10, 640, now);
        ledger.Charge("ws-b", "k1", 5, 320, now);        // another workspace, same day and key: one row
        ledger.Charge("ws-a", "none", 7, 448, now.AddDays(-1));
        ledger.Charge("ws-a", "k1", 99, 9, now.AddDays(-20)); // outside 14 days

        var rows = PrivacyCommands.Ledger(ledger, 14, now).Rows;

        Assert.That(rows, Is.EqualTo(new[]
        {
            new LedgerRow("2026-11-23", "k1", 15, 960, 2),
            new LedgerRow("2026-11-22", "none", 7, 448, 1),
        }));
        Assert.That(PrivacyCommands.Ledger(ledger, 30, now).Rows, Has.Length.EqualTo(3));
        Assert.Throws<ArgumentException>(() => PrivacyCommands.Ledger(ledger, 0, now));
    }

    [Test]
    public void RotatingMakesNewKeysWithTheSameEpsilonBesideTheOldOnesWhichAreKept()
    {
        string model = Path.Combine(_root, "model");
        var config = RandomModelFactory.Create(model, "tiny", seed: 3);
        string oldKeys = Path.Combine(_root, "keys", "team");
        var (embedding, dtype) = PrivacyKeys.ReadEmbedding(model, config);
        var (keys, _) = PrivacyKeys.Generate(embedding, config, ModelFingerprint.Of(model), 13, "team", tableDtype: dtype);
        keys.Save(oldKeys);
        var now = new DateTimeOffset(2026, 11, 23, 6, 1, 2, TimeSpan.Zero);

        var rotated = PrivacyCommands.Rotate(oldKeys, model, now);

        Assert.That(rotated.KeysFolder, Is.EqualTo(Path.Combine(_root, "keys", "team-rotated-20261123-060102")));
        var meta = PrivacyKeys.ReadMetadata(rotated.KeysFolder);
        Assert.That(meta.KeyId, Is.Not.EqualTo(keys.Metadata.KeyId));
        Assert.That(meta.KeyId, Is.EqualTo(rotated.KeyId));
        Assert.That(meta.Epsilon, Is.EqualTo(13));
        Assert.That(meta.Label, Is.EqualTo("team"));
        Assert.That(PrivacyKeys.ReadMetadata(oldKeys).KeyId, Is.EqualTo(keys.Metadata.KeyId), "the old keys are kept");
        Assert.That(PrivacyKeys.Load(rotated.KeysFolder, ModelFingerprint.Of(model)), Is.Not.Null, "the new keys load for this model");

        // Rotating the rotated keys again names the folder after the original, not team-rotated-…-rotated-….
        var again = PrivacyCommands.Rotate(rotated.KeysFolder, model, now.AddSeconds(1));
        Assert.That(Path.GetFileName(again.KeysFolder), Is.EqualTo("team-rotated-20261123-060103"));
    }

    [Test]
    public void RotatingRefusesKeysOfAnotherModelAndAShardTunedWithOtherKeys()
    {
        string model = Path.Combine(_root, "model");
        var config = RandomModelFactory.Create(model, "tiny", seed: 3);
        string other = Path.Combine(_root, "other");
        RandomModelFactory.Create(other, "tiny", seed: 4);
        var (embedding, dtype) = PrivacyKeys.ReadEmbedding(model, config);
        var (keys, _) = PrivacyKeys.Generate(embedding, config, ModelFingerprint.Of(model), 13, tableDtype: dtype);
        string keysFolder = Path.Combine(_root, "keys");
        keys.Save(keysFolder);

        var wrongModel = Assert.Throws<InvalidOperationException>(() => PrivacyCommands.Rotate(keysFolder, other, DateTimeOffset.UtcNow))!;
        Assert.That(wrongModel.Message, Does.Contain("another model"));

        // A shard tuned with other keys cannot be re-keyed from these: its head speaks another permutation.
        File.WriteAllText(Path.Combine(model, TunedShardBinding.FileName), JsonSerializer.Serialize(new { key_id = "0123456789abcdef" }));
        var foreign = Assert.Throws<KeyMismatchException>(() => PrivacyCommands.Rotate(keysFolder, model, DateTimeOffset.UtcNow))!;
        Assert.That(foreign.Message, Does.Contain("0123456789abcdef"));
        Assert.That(Directory.GetDirectories(_root).Count(d => d.Contains("rotated")), Is.Zero, "nothing written");
    }

    [Test]
    public void RotatingATunedShardReKeysItsHeadExactlyAndBindsItToTheNewKeysAndAFreshAdapter()
    {
        string model = Path.Combine(_root, "model");
        var config = RandomModelFactory.Create(model, "tiny", seed: 3);
        string fingerprint = ModelFingerprint.Of(model);
        var (embedding, dtype) = PrivacyKeys.ReadEmbedding(model, config);
        var (keys, _) = PrivacyKeys.Generate(embedding, config, fingerprint, 13, "team", tableDtype: dtype);
        string keysFolder = Path.Combine(_root, "keys", "team");
        keys.Save(keysFolder);
        // A tuned shard as noir tune writes it: client blocks, norm and an untied head (random rows, all distinct).
        string client = Path.Combine(_root, "client");
        Core.Split.ModelSplitter.Split(model, client, Path.Combine(_root, "cloud"), SplitSpec.Default);
        var weights = Core.Weights.WeightFolder.Open(client);
        var head = new float[config.VocabSize * config.HiddenSize];
        var rng = new Random(5);
        for (int i = 0; i < head.Length; i++) head[i] = (float)rng.NextDouble();
        var tensors = weights.Entries.Where(e => e.Name != ModelLayout.Embedding && e.Name != ModelLayout.LmHead)
            .Select(e => Core.Weights.TensorData.Of(e.Name, e.Dtype, e.Shape, weights.ReadRaw(e.Name))).ToList();
        tensors.Add(Core.Weights.TensorData.OfFloats(ModelLayout.LmHead, "F32", ModelLayout.EmbeddingShape(config), head));
        string tuned = Path.Combine(_root, "tuned");
        string oldAdapter = TenantAdapterId.ForKey(keys.Metadata.KeyId);
        TunedShardWriter.Write(tuned, client, config, SplitSpec.Default, fingerprint, tensors, keys.Metadata, steps: 7, oldAdapter);

        var rotated = PrivacyCommands.Rotate(keysFolder, tuned, new DateTimeOffset(2026, 11, 23, 6, 1, 2, TimeSpan.Zero));

        Assert.That(rotated.ClientFolder, Is.EqualTo(rotated.KeysFolder + "-client"));
        var newKeys = PrivacyKeys.Load(rotated.KeysFolder, fingerprint);
        var binding = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(rotated.ClientFolder!, TunedShardBinding.FileName)))!;
        Assert.That((string)binding["key_id"]!, Is.EqualTo(rotated.KeyId));
        Assert.That((int)binding["steps"]!, Is.Zero, "the new keys' table is new to the encoder: it needs tuning again");
        Assert.That(rotated.AdapterId, Is.EqualTo(TenantAdapterId.ForKey(rotated.KeyId)).And.Not.EqualTo(oldAdapter), "a fresh endpoint adapter");
        Assert.That(TenantAdapterId.ForClient(rotated.ClientFolder!, newKeys.Metadata), Is.EqualTo(rotated.AdapterId), "the runtime asks the endpoint for it");
        Assert.DoesNotThrow(() => TunedShardBinding.Check(rotated.ClientFolder!, rotated.KeyId));
        Assert.That(KeyRotation.PreviousKeyId(rotated.KeysFolder), Is.EqualTo(keys.Metadata.KeyId), "the rotation is recorded for the ledger's history");
        Assert.That(File.GetUnixFileMode(Path.Combine(rotated.ClientFolder!, "model.safetensors")) & (UnixFileMode)0b111_111, Is.EqualTo((UnixFileMode)0), "owner-only");

        // Token t's head row moves from the old secret index to the new one; nothing else changes.
        var before = Core.Weights.WeightFolder.Open(tuned);
        var after = Core.Weights.WeightFolder.Open(rotated.ClientFolder!);
        var (_, oldHead) = before.ReadFloats(ModelLayout.LmHead, ModelLayout.EmbeddingShape(config));
        var (_, newHead) = after.ReadFloats(ModelLayout.LmHead, ModelLayout.EmbeddingShape(config));
        int m = config.HiddenSize, moved = 0;
        for (int t = 0; t < config.VocabSize; t++)
        {
            var want = oldHead.AsSpan(keys.Permutation.ToIndex(t) * m, m);
            Assert.That(newHead.AsSpan(newKeys.Permutation.ToIndex(t) * m, m).SequenceEqual(want), Is.True, $"token {t}");
            if (keys.Permutation.ToIndex(t) != newKeys.Permutation.ToIndex(t)) moved++;
        }
        Assert.That(moved, Is.GreaterThan(config.VocabSize / 2), "the permutation really changed");
        foreach (var name in before.Names.Where(n => n != ModelLayout.LmHead))
            Assert.That(after.ReadRaw(name), Is.EqualTo(before.ReadRaw(name)), name);
        Assert.That(File.ReadAllText(Path.Combine(tuned, TunedShardBinding.FileName)), Does.Contain(keys.Metadata.KeyId), "the old shard is kept as it was");
    }

    [Test]
    public void DebounceComesFromTheSettingsAndABadValueIsTheDefault()
    {
        var s = SidecarSettings.From(JsonSerializer.SerializeToElement(new { noir = new { debounceMs = 120 } }));
        Assert.That(s.DebounceMs, Is.EqualTo(120));
        Assert.That(SidecarSettings.From(JsonSerializer.SerializeToElement(new { debounceMs = -5 })).DebounceMs, Is.Null, "adaptive: settings are replaced, never merged");
        Assert.That(SidecarSettings.From(JsonSerializer.SerializeToElement(new { mode = "split" })).DebounceMs, Is.Null, "adaptive by default");
    }
}
