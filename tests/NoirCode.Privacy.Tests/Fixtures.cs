using NoirCode.Core.Model;

namespace NoirCode.Privacy.Tests;

/// <summary>A temporary folder per test run, and a random model in the real format made once.</summary>
[SetUpFixture]
public sealed class Fixtures
{
    public static string Root { get; private set; } = "";
    static string? _model;

    public static string Model
    {
        get
        {
            lock (typeof(Fixtures))
                if (_model == null) { _model = Path.Combine(Root, "model"); RandomModelFactory.Create(_model, "tiny", seed: 3); }
            return _model;
        }
    }

    public static string NewFolder(string hint) => Path.Combine(Root, $"{hint}-{Guid.NewGuid():N}");

    [OneTimeSetUp]
    public void Create() => Root = Directory.CreateTempSubdirectory("noir-privacy-tests-").FullName;

    [OneTimeTearDown]
    public void Remove() { try { Directory.Delete(Root, recursive: true); } catch (IOException) { } }
}
