using System.Text.Json.Nodes;
using NoirCode.Core.Model;
using NoirCode.Privacy.Keys;
using NoirCode.Testing.Models;

namespace NoirCode.Sidecar.Tests;

/// <summary>
/// The bundled demo keys ship as keys.json alone (16 bf16 tables would be 64 MiB in git): the first run derives the tables
/// from its public seed into the owner-only cache, checked against the recorded digest, and later runs reuse them.
/// </summary>
public class DemoBundleTests
{
    string _root = "";

    [SetUp]
    public void Folder() => _root = Directory.CreateTempSubdirectory("noir-demo-bundle-").FullName;

    [TearDown]
    public void Clean() => Directory.Delete(_root, recursive: true);

    [Test]
    public void TheShippedDemoKeysAreASeedThatDerivesSixteenTablesOwnerOnlyInTheCache()
    {
        var bundle = DemoBundle.Find(BundledModel.Folder)!;
        Assert.That(File.Exists(Path.Combine(bundle.KeysFolder, PrivacyKeys.TablesFile)), Is.False, "the repository holds the seed, not the tables");
        var shipped = PrivacyKeys.ReadMetadata(bundle.KeysFolder);
        Assert.That(shipped.Demo && shipped.PublicSeed != null, shipped.ToString());

        var installed = bundle.Install(Path.Combine(_root, "cache"));
        string tables = Path.Combine(installed.KeysFolder, PrivacyKeys.TablesFile);
        Assert.That(File.GetUnixFileMode(tables), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
        var keys = PrivacyKeys.Load(installed.KeysFolder, ModelFingerprint.Of(bundle.ClientFolder));
        Assert.That(keys.Metadata, Is.EqualTo(shipped), "installed under the published metadata");
        Assert.That(keys.Metadata.Homophones, Is.EqualTo(16));
        Assert.That(installed.ClientFolder, Is.EqualTo(bundle.ClientFolder), "the tuned shard is used in place");
        TunedShardBinding.Check(installed.ClientFolder, keys.Metadata.KeyId);

        var written = File.GetLastWriteTimeUtc(tables);
        Assert.That(bundle.Install(Path.Combine(_root, "cache")).KeysFolder, Is.EqualTo(installed.KeysFolder));
        Assert.That(File.GetLastWriteTimeUtc(tables), Is.EqualTo(written), "a second start reuses the derived tables");
    }

    [Test]
    public void ABundleRebuiltWithTheSameTablesForAnotherModelInstallsAfresh()
    {
        // Same seed and embedding give the same tables and key id; a continued base model changes keys.json's
        // model fingerprint. A cache keyed by the key id alone would hand the new bundle keys bound to the old model.
        var shipped = DemoBundle.Find(BundledModel.Folder)!;
        string demo = Path.Combine(_root, "model", DemoBundle.FolderName);
        Directory.CreateDirectory(Path.Combine(demo, "keys"));
        Directory.CreateSymbolicLink(Path.Combine(demo, "endpoint"), shipped.EndpointStateFolder);
        Directory.CreateSymbolicLink(Path.Combine(demo, "client"), shipped.ClientFolder);
        string keysJson = Path.Combine(demo, "keys", PrivacyKeys.MetadataFile);
        File.Copy(Path.Combine(shipped.KeysFolder, PrivacyKeys.MetadataFile), keysJson);
        var bundle = DemoBundle.Find(Path.Combine(_root, "model"))!;
        string cache = Path.Combine(_root, "cache");
        var first = bundle.Install(cache);

        var json = JsonNode.Parse(File.ReadAllText(keysJson))!.AsObject();
        json["model_fingerprint"] = "sha256:" + new string('0', 64);
        File.WriteAllText(keysJson, json.ToJsonString());
        var second = bundle.Install(cache);

        Assert.That(second.KeysFolder, Is.Not.EqualTo(first.KeysFolder));
        Assert.That(PrivacyKeys.ReadMetadata(second.KeysFolder).ModelFingerprint, Is.EqualTo("sha256:" + new string('0', 64)));
    }

    [Test]
    public void TheDemoClientMovesToOtherDemoKeysKeepingItsAdapter()
    {
        // How the demo bundle is rebuilt for new demo keys (model card): noir tune rekey --keep-adapter, demo to demo.
        var bundle = DemoBundle.Find(BundledModel.Folder)!;
        var installed = bundle.Install(Path.Combine(_root, "cache"));
        var config = ModelConfig.Load(bundle.ClientFolder);
        var (embedding, dtype) = PrivacyKeys.ReadEmbedding(bundle.ClientFolder, config);
        string fingerprint = ModelFingerprint.Of(bundle.ClientFolder);
        var (other, _) = PrivacyKeys.Generate(embedding, config, fingerprint, 13, "demo", demo: true, tableDtype: dtype, homophones: 2, publicSeed: "other demo keys");
        string otherFolder = Path.Combine(_root, "other-keys"), moved = Path.Combine(_root, "moved");
        other.Save(otherFolder);

        int exit = Cli.Commands.TuneRekeyCommand.Create().Parse(new[]
            { "--model", bundle.ClientFolder, "--keys", installed.KeysFolder, "--to-keys", otherFolder, "--out", moved, "--keep-adapter" }).Invoke();

        Assert.That(exit, Is.EqualTo(0));
        Assert.That(TunedShardBinding.AdapterId(moved), Is.EqualTo(TunedShardBinding.AdapterId(bundle.ClientFolder)), "the demo's LoRA stays the warm start");
        Assert.DoesNotThrow(() => TunedShardBinding.Check(moved, other.Metadata.KeyId));
        Assert.Throws<KeyMismatchException>(() => TunedShardBinding.Check(moved, PrivacyKeys.ReadMetadata(installed.KeysFolder).KeyId), "bound to the new keys, not the demo's");
    }

    [Test]
    public void ABundleWhoseSeedDoesNotDeriveItsRecordedTablesIsRefusedAndLeavesNoKeys()
    {
        var shipped = DemoBundle.Find(BundledModel.Folder)!;
        string demo = Path.Combine(_root, "model", DemoBundle.FolderName);
        Directory.CreateDirectory(Path.Combine(demo, "keys"));
        Directory.CreateDirectory(Path.Combine(demo, "endpoint"));
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(shipped.KeysFolder, PrivacyKeys.MetadataFile)))!.AsObject();
        json["public_seed"] = "not the seed these tables came from";
        File.WriteAllText(Path.Combine(demo, "keys", PrivacyKeys.MetadataFile), json.ToJsonString());
        var bundle = DemoBundle.Find(Path.Combine(_root, "model"));
        Assert.That(bundle, Is.Null, "no client folder: not a bundle");
        Directory.CreateSymbolicLink(Path.Combine(demo, "client"), shipped.ClientFolder);
        bundle = DemoBundle.Find(Path.Combine(_root, "model"))!;

        var e = Assert.Throws<IOException>(() => bundle.Install(Path.Combine(_root, "cache")));
        Assert.That(e!.Message, Does.Contain("do not match keys.json"));
        Assert.That(Directory.GetFiles(Path.Combine(_root, "cache"), PrivacyKeys.TablesFile, SearchOption.AllDirectories), Is.Empty);
    }
}
