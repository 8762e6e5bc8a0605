namespace NoirCode.Testing.Models;

/// <summary>The model shipped in the repository (models/noir-coder-8m), found above the test binaries.</summary>
public static class BundledModel
{
    static readonly Lazy<string> Found = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (Directory.Exists(Path.Combine(dir.FullName, "models", "noir-coder-8m"))) return Path.Combine(dir.FullName, "models", "noir-coder-8m");
        throw new DirectoryNotFoundException("models/noir-coder-8m above the test binaries");
    });

    /// <summary>Its folder (config, weights, tokenizer, and the demo split with its keys).</summary>
    public static string Folder => Found.Value;
}
