using NoirCode.Privacy.Keys;
using NoirCode.Privacy.Ledger;

namespace NoirCode.Privacy.Tests;

/// <summary>The ledger's workspace ids are salted per user: a guessed path cannot be confirmed from a ledger row.</summary>
public class WorkspaceIdsTests
{
    [Test]
    public void TheSaltIsRandomPerLedgerOwnerOnlyAndStable()
    {
        string a = Fixtures.NewFolder("ledger-a"), b = Fixtures.NewFolder("ledger-b");
        const string workspace = "/home/alice/secret-project";
        string id = WorkspaceIds.For(a, workspace);
        Assert.That(id, Has.Length.EqualTo(16).And.Not.Contain("secret"));
        Assert.That(WorkspaceIds.For(a, workspace), Is.EqualTo(id), "stable for one user");
        Assert.That(WorkspaceIds.For(b, workspace), Is.Not.EqualTo(id), "another user's salt, another id");
        string publicSalt = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("noircode-workspace\n" + Path.GetFullPath(workspace))))[..16];
        Assert.That(id, Is.Not.EqualTo(publicSalt), "not the public-salt hash anyone can compute");
        Assert.That(File.GetUnixFileMode(Path.Combine(a, WorkspaceIds.SaltFile)), Is.EqualTo(SecureFiles.OwnerFile));
    }

    [Test]
    public void ASaltOthersCanReadIsRefused()
    {
        string folder = Fixtures.NewFolder("ledger-open");
        WorkspaceIds.For(folder, "/w");
        File.SetUnixFileMode(Path.Combine(folder, WorkspaceIds.SaltFile), SecureFiles.OwnerFile | UnixFileMode.OtherRead);
        Assert.Throws<UnauthorizedAccessException>(() => WorkspaceIds.For(folder, "/w"));
    }
}
