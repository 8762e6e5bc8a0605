using NoirCode.Core.Model;

namespace NoirCode.Testing.Models;

/// <summary>
/// A random model in the real HF format, in a fresh temp folder that goes when this is disposed: for a fixture
/// that needs a model (and a workspace) of its own.
/// </summary>
public sealed class TempModel : IDisposable
{
    /// <summary>The temp folder: the model is in it, and a test's other files (workspace, cache, ledger) may be.</summary>
    public string Root { get; }
    /// <summary>The model's folder, <see cref="Root"/>/model.</summary>
    public string Folder { get; }
    public ModelConfig Config { get; }

    /// <param name="prefix">the temp folder's name starts with it (which test left it, if it is ever left)</param>
    public TempModel(string prefix, string preset = "tiny", int seed = 1, string dtype = "F32")
    {
        Root = Directory.CreateTempSubdirectory(prefix).FullName;
        Folder = Path.Combine(Root, "model");
        try { Config = RandomModelFactory.Create(Folder, preset, seed, dtype); }
        catch { Directory.Delete(Root, true); throw; }
    }

    public void Dispose() => Directory.Delete(Root, true);
}
