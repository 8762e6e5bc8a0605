using System.Diagnostics;
using NoirCode.Build;
using static TorchSharp.torch;

namespace NoirCode.Core.Tests;

/// <summary>The build-time fix that lets TorchSharp's native library load on Debian 12 (see build/LibStdCxxVersionPatch.cs).</summary>
public class TorchSharpNativePatchTests
{
    static string PackagedLibrary()
    {
        string root = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string path = Path.Combine(root, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.That(File.Exists(path), Is.True, $"the restored TorchSharp package should be at {path}");
        return path;
    }

    static readonly HashSet<string> Debian12 = Enumerable.Range(0, 31).Select(i => $"GLIBCXX_3.4.{i}").Append("GLIBCXX_3.4").ToHashSet();

    [Test]
    public void RemovesOnlyTheMissingVersionAndIsIdempotent()
    {
        byte[] elf = File.ReadAllBytes(PackagedLibrary());
        var removed = LibStdCxxVersionPatch.Patch(elf, Debian12);
        Assert.That(removed, Is.EqualTo(new[] { "GLIBCXX_3.4.32" }));
        byte[] once = (byte[])elf.Clone();
        Assert.That(LibStdCxxVersionPatch.Patch(elf, Debian12), Is.Empty, "a second run finds nothing to do");
        Assert.That(elf, Is.EqualTo(once));
    }

    [Test]
    public void LeavesTheFileAloneWhenTheSystemHasTheVersion()
    {
        byte[] original = File.ReadAllBytes(PackagedLibrary());
        byte[] elf = (byte[])original.Clone();
        var gcc13 = Debian12.Concat(new[] { "GLIBCXX_3.4.31", "GLIBCXX_3.4.32" }).ToHashSet();
        Assert.That(LibStdCxxVersionPatch.Patch(elf, gcc13), Is.Empty);
        Assert.That(elf, Is.EqualTo(original));
    }

    [Test]
    public void PatchedLibraryHasNoUnmetVersionNeeds()
    {
        string built = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.That(File.Exists(built), Is.True);
        var psi = new ProcessStartInfo("ldd", built) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.That(output, Does.Not.Contain("not found"));
    }

    [Test]
    public void TorchSharpComputesAndReportsErrorsAsExceptions()
    {
        using var a = randn(8, 8, requires_grad: true);
        using var loss = a.matmul(a).sum();
        loss.backward();
        Assert.That(a.grad!.shape, Is.EqualTo(new long[] { 8, 8 }));
        // Errors thrown inside libtorch must still surface as .NET exceptions after the patch.
        Assert.Throws<System.Runtime.InteropServices.ExternalException>(() => ones(2).view(3));
    }
}
