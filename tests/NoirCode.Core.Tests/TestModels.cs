using NoirCode.Core.Model;

namespace NoirCode.Core.Tests;

/// <summary>Random models in the real HF format, made once per test run and shared read-only by the tests.</summary>
[SetUpFixture]
public sealed class TestModels
{
    public static string Root { get; private set; } = "";

    /// <summary>Folder of a random model of the given preset and stored dtype (F32, BF16, F16).</summary>
    public static string Get(string preset = "tiny", string dtype = "F32")
    {
        string dir = Path.Combine(Root, $"{preset}-{dtype}");
        lock (typeof(TestModels))
            if (!Directory.Exists(dir)) RandomModelFactory.Create(dir, preset, seed: 7, dtype: dtype);
        return dir;
    }

    /// <summary>A writable copy of a model, for tests that damage files.</summary>
    public static string CopyOf(string preset = "tiny", string dtype = "F32")
    {
        string source = Get(preset, dtype), dir = NewFolder("copy");
        foreach (var f in Directory.GetFiles(source)) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        return dir;
    }

    public static string NewFolder(string hint) => Directory.CreateDirectory(Path.Combine(Root, $"{hint}-{Guid.NewGuid():N}")).FullName;

    [OneTimeSetUp]
    public void Create() => Root = Directory.CreateTempSubdirectory("noir-tests-").FullName;

    [OneTimeTearDown]
    public void Remove() { try { Directory.Delete(Root, recursive: true); } catch (IOException) { } }
}
