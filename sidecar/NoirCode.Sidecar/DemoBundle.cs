using NoirCode.Privacy.Keys;

namespace NoirCode.Sidecar;

/// <summary>
/// The demo material shipped beside the bundled model, in &lt;model&gt;/demo: a key set that is public (so it
/// protects nothing; it is marked demo and the status bar says so; homophonic ones ship as keys.json alone, their
/// tables derived from its public seed on first use), a client shard tuned with it (STuning), and
/// the endpoint's LoRA for the middle blocks. It lets the embedded default produce useful completions under
/// INDVocab + LTokenizer out of the box. `noir keygen` + `noir tune` make private ones.
/// </summary>
public sealed record DemoBundle(string KeysFolder, string ClientFolder, string EndpointStateFolder)
{
    public const string FolderName = "demo";

    public static DemoBundle? Find(string modelFolder)
    {
        string root = Path.Combine(modelFolder, FolderName);
        var bundle = new DemoBundle(Path.Combine(root, "keys"), Path.Combine(root, "client"), Path.Combine(root, "endpoint"));
        return File.Exists(Path.Combine(bundle.KeysFolder, PrivacyKeys.MetadataFile)) && Directory.Exists(bundle.ClientFolder)
            && Directory.Exists(bundle.EndpointStateFolder) ? bundle : null;
    }

    /// <summary>
    /// Copies the endpoint state and (with <paramref name="withKeys"/>) copies the keys, or derives them when they are
    /// published as a seed, into the user's cache with owner-only modes (git does not keep them, and the key loader
    /// refuses files others can read). The tuned client shard is used in place. Each part is built in a folder of its
    /// own and moved into place whole, and a part another process installed first is kept, never replaced.
    /// </summary>
    /// <param name="withKeys">false when the user runs keys of their own: the endpoint state (their rotated adapters
    /// live beside the demo's) is still needed, the demo keys are not</param>
    public DemoBundle Install(string cacheFolder, bool withKeys = true)
    {
        var metadata = PrivacyKeys.ReadMetadata(KeysFolder);
        // Named by the content of keys.json and the endpoint state too: a rebuilt bundle (same tables on a new base model,
        // or a new LoRA) must not reuse an old copy.
        string target = Path.Combine(cacheFolder, $"demo-{metadata.KeyId}-{ContentId(EndpointStateFolder, Path.Combine(KeysFolder, PrivacyKeys.MetadataFile))}");
        var installed = new DemoBundle(Path.Combine(target, "keys"), ClientFolder, Path.Combine(target, "endpoint"));
        SecureFiles.CreateFolder(target);
        Func<bool> endpointThere = () => Directory.Exists(installed.EndpointStateFolder);
        Func<bool> keysThere = () => File.Exists(Path.Combine(installed.KeysFolder, PrivacyKeys.TablesFile));
        FolderInstall.Install(installed.EndpointStateFolder, endpointThere, tmp => CopyOwnerOnly(EndpointStateFolder, tmp));
        if (withKeys)
            FolderInstall.Install(installed.KeysFolder, keysThere, tmp =>
            {
                if (File.Exists(Path.Combine(KeysFolder, PrivacyKeys.TablesFile))) CopyOwnerOnly(KeysFolder, tmp);
                else DeriveKeys(metadata, tmp);
            });
        return installed;
    }

    /// <summary>The tables from the public seed, over the tuned shard's public embedding (the model's own).</summary>
    void DeriveKeys(KeyMetadata metadata, string folder)
    {
        if (metadata.PublicSeed == null) throw new IOException($"{KeysFolder} has neither {PrivacyKeys.TablesFile} nor a public seed to derive the demo keys from");
        var config = Core.Model.ModelConfig.Load(ClientFolder);
        var (embedding, dtype) = PrivacyKeys.ReadEmbedding(ClientFolder, config);
        PrivacyKeys.FromPublicSeed(metadata, embedding, config, dtype).Save(folder);
    }

    static string ContentId(string folder, string file)
    {
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach (var f in Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            sha.AppendData(System.Text.Encoding.UTF8.GetBytes(Path.GetRelativePath(folder, f) + "\n"));
            sha.AppendData(File.ReadAllBytes(f));
        }
        sha.AppendData(System.Text.Encoding.UTF8.GetBytes("\n" + Path.GetFileName(file) + "\n"));
        sha.AppendData(File.ReadAllBytes(file));
        return Convert.ToHexStringLower(sha.GetHashAndReset())[..12];
    }

    static void CopyOwnerOnly(string from, string to)
    {
        SecureFiles.CreateFolder(to);
        foreach (var dir in Directory.GetDirectories(from)) CopyOwnerOnly(dir, Path.Combine(to, Path.GetFileName(dir)));
        foreach (var file in Directory.GetFiles(from))
        {
            string dest = Path.Combine(to, Path.GetFileName(file));
            File.Copy(file, dest);
            File.SetUnixFileMode(dest, SecureFiles.OwnerFile);
        }
    }
}
