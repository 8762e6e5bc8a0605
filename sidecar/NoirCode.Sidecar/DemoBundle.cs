using NoirCode.Privacy.Keys;

namespace NoirCode.Sidecar;

/// <summary>
/// The demo material shipped beside the bundled model, in &lt;model&gt;/demo: a key set that is public (so it
/// protects nothing; it is marked demo and the status bar says so), a client shard tuned with it (STuning), and
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
    /// Copies the keys and the endpoint state into the user's cache with owner-only modes (git does not keep
    /// them, and the key loader refuses files others can read). The tuned client shard is used in place.
    /// </summary>
    public DemoBundle Install(string cacheFolder)
    {
        string keyId = PrivacyKeys.ReadMetadata(KeysFolder).KeyId;
        // The endpoint's state is named by its content too: a retuned bundle (same keys, new LoRA) must not reuse an old copy.
        string target = Path.Combine(cacheFolder, $"demo-{keyId}-{ContentId(EndpointStateFolder)}");
        var installed = new DemoBundle(Path.Combine(target, "keys"), ClientFolder, Path.Combine(target, "endpoint"));
        if (!File.Exists(Path.Combine(installed.KeysFolder, PrivacyKeys.TablesFile)))
        {
            string tmp = target + ".tmp-" + Environment.ProcessId;
            if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
            SecureFiles.CreateFolder(tmp);
            CopyOwnerOnly(KeysFolder, Path.Combine(tmp, "keys"));
            CopyOwnerOnly(EndpointStateFolder, Path.Combine(tmp, "endpoint"));
            if (Directory.Exists(target)) Directory.Delete(target, true);
            Directory.Move(tmp, target);
        }
        return installed;
    }

    static string ContentId(string folder)
    {
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach (var file in Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            sha.AppendData(System.Text.Encoding.UTF8.GetBytes(Path.GetRelativePath(folder, file) + "\n"));
            sha.AppendData(File.ReadAllBytes(file));
        }
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
