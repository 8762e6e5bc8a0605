using System.Text.Json;
using NoirCode.Core.Model;
using NoirCode.Privacy.Keys;
using NoirCode.Privacy.Ledger;
using NoirCode.Remote;
using NoirCode.Sidecar.Lsp;

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
    public void RotatingRefusesAModelTunedWithTheCurrentKeysAndKeysOfAnotherModel()
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

        File.WriteAllText(Path.Combine(model, SplitFineTuner.BindingFile), JsonSerializer.Serialize(new { key_id = keys.Metadata.KeyId }));
        var tuned = Assert.Throws<InvalidOperationException>(() => PrivacyCommands.Rotate(keysFolder, model, DateTimeOffset.UtcNow))!;
        Assert.That(tuned.Message, Does.Contain("noir tune"));
        Assert.That(Directory.GetDirectories(_root).Count(d => d.Contains("rotated")), Is.Zero, "nothing written");
    }

    [Test]
    public void DebounceComesFromTheSettingsAndABadValueKeepsTheOldOne()
    {
        var s = SidecarSettings.From(JsonSerializer.SerializeToElement(new { noir = new { debounceMs = 120 } }));
        Assert.That(s.DebounceMs, Is.EqualTo(120));
        Assert.That(SidecarSettings.From(JsonSerializer.SerializeToElement(new { debounceMs = -5 }), s).DebounceMs, Is.EqualTo(120));
        Assert.That(SidecarSettings.From(JsonSerializer.SerializeToElement(new { mode = "split" })).DebounceMs, Is.Null, "adaptive by default");
    }
}
