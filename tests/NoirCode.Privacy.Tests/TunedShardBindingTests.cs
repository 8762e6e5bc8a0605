using NoirCode.Privacy.Keys;

namespace NoirCode.Privacy.Tests;

/// <summary>A tuned shard runs only with the keys it was tuned under, and names the adapter tuned with it.</summary>
public class TunedShardBindingTests
{
    static KeyMetadata Keys(string id) => new(id, "test", Demo: false, 13, 64, 32, "sha256:00", DateTimeOffset.UtcNow, 10, 0.5, 1, 0);

    [Test]
    public void AShardTunedUnderOtherKeysIsRefused()
    {
        string folder = Directory.CreateDirectory(Fixtures.NewFolder("tuned")).FullName;
        TunedShardBinding.Write(folder, Keys("key-a"), steps: 3, adapterId: "kabc", windowTokens: 256);
        Assert.That(TunedShardBinding.WindowTokens(folder), Is.EqualTo(256));
        Assert.DoesNotThrow(() => TunedShardBinding.Check(folder, "key-a"));
        var e = Assert.Throws<KeyMismatchException>(() => TunedShardBinding.Check(folder, "key-b"))!;
        Assert.That(e.Message, Does.Contain("key-a").And.Contain("key-b"));
        Assert.That(TunedShardBinding.AdapterId(folder), Is.EqualTo("kabc"));
        Assert.That(File.GetUnixFileMode(Path.Combine(folder, TunedShardBinding.FileName)), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite), "owner-only");
    }

    [Test]
    public void AnUntunedFolderBindsNothingAndAnOldBindingNamesTheUnnamedAdapterAndNoWindow()
    {
        string folder = Directory.CreateDirectory(Fixtures.NewFolder("untuned")).FullName;
        Assert.DoesNotThrow(() => TunedShardBinding.Check(folder, "any"));
        Assert.That((TunedShardBinding.Exists(folder), TunedShardBinding.AdapterId(folder), TunedShardBinding.WindowTokens(folder)), Is.EqualTo((false, (string?)null, (int?)null)));
        TunedShardBinding.Write(folder, Keys("key-a"), steps: 1, adapterId: null); // tuned before adapters and windows were recorded
        Assert.That((TunedShardBinding.AdapterId(folder), TunedShardBinding.WindowTokens(folder)), Is.EqualTo(("", (int?)null)));
    }
}
