using System.Diagnostics;

namespace NoirCode.Sidecar.Tests;

/// <summary>
/// The cache's folders (the embedded endpoint's split, the demo keys and endpoint state) go in whole: a failed build
/// leaves nothing, a finished copy is never replaced, and what a killed sidecar was building is removed by the next
/// install, a finished copy there or not, while another live sidecar's build is left alone.
/// </summary>
public class FolderInstallTests
{
    string _root = "";

    [SetUp] public void SetUp() => _root = Directory.CreateTempSubdirectory("noir-folder-install-").FullName;
    [TearDown] public void TearDown() => Directory.Delete(_root, true);

    /// <summary>The pid of a process that has ended.</summary>
    static int EndedPid()
    {
        using var p = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        p.WaitForExit();
        return p.Id;
    }

    static void Fill(string folder, string text)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "part.txt"), text);
    }

    [Test]
    public void AKilledSidecarsBuildingFolderIsRemovedAndALiveOnesIsKept()
    {
        string folder = Path.Combine(_root, "split");
        string abandoned = FolderInstall.BuildingFolder(folder, EndedPid());
        Fill(abandoned, "half of a split");
        using var live = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
        try
        {
            string building = FolderInstall.BuildingFolder(folder, live.Id);
            Fill(building, "another sidecar is still splitting");
            string unrelated = Directory.CreateDirectory(folder + ".tmp-notapid").FullName;

            FolderInstall.Install(folder, () => File.Exists(Path.Combine(folder, "part.txt")), tmp => Fill(tmp, "whole"));

            Assert.That(File.ReadAllText(Path.Combine(folder, "part.txt")), Is.EqualTo("whole"));
            Assert.That(Directory.Exists(abandoned), Is.False, "its process is gone: nothing will finish it");
            Assert.That(Directory.Exists(building), Is.True, "its process still runs");
            Assert.That(Directory.Exists(unrelated), Is.True, "not a building folder's name");
            Assert.That(Directory.Exists(FolderInstall.BuildingFolder(folder, Environment.ProcessId)), Is.False);
        }
        finally { live.Kill(); }
    }

    [Test]
    public void WithAFinishedCopyThereNothingIsBuiltAndAKilledSidecarsBuildingFolderStillGoes()
    {
        string folder = Path.Combine(_root, "split");
        Fill(folder, "finished");
        string abandoned = FolderInstall.BuildingFolder(folder, EndedPid());
        Fill(abandoned, "half of a split");
        FolderInstall.Install(folder, () => File.Exists(Path.Combine(folder, "part.txt")), _ => Assert.Fail("a finished copy is there: nothing to build"));
        Assert.That(File.ReadAllText(Path.Combine(folder, "part.txt")), Is.EqualTo("finished"));
        Assert.That(Directory.GetDirectories(_root), Is.EquivalentTo(new[] { folder }), "the abandoned building folder went");
    }

    [Test]
    public void AFailedBuildLeavesNothingAndAnIncompleteCopyIsReplaced()
    {
        string folder = Path.Combine(_root, "keys");
        Directory.CreateDirectory(folder); // an earlier copy without its finishing file
        Func<bool> complete = () => File.Exists(Path.Combine(folder, "part.txt"));

        var e = Assert.Throws<IOException>(() => FolderInstall.Install(folder, complete, tmp => { Fill(tmp, "half"); throw new IOException("disk full"); }))!;
        Assert.That(e.Message, Is.EqualTo("disk full"));
        Assert.That(Directory.GetDirectories(_root), Is.EquivalentTo(new[] { folder }), "the building folder went with the failure");

        FolderInstall.Install(folder, complete, tmp => Fill(tmp, "whole"));
        Assert.That(File.ReadAllText(Path.Combine(folder, "part.txt")), Is.EqualTo("whole"));
    }

    [Test]
    public void ACopyAnotherSidecarFinishedMeanwhileIsKept()
    {
        string folder = Path.Combine(_root, "endpoint");
        FolderInstall.Install(folder, () => File.Exists(Path.Combine(folder, "part.txt")), tmp =>
        {
            Fill(tmp, "mine");
            Fill(folder, "theirs, finished while mine was being built");
        });
        Assert.That(File.ReadAllText(Path.Combine(folder, "part.txt")), Does.StartWith("theirs"));
        Assert.That(Directory.GetDirectories(_root), Is.EquivalentTo(new[] { folder }));
    }
}
