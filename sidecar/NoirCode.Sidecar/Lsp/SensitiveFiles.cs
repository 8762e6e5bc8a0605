using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace NoirCode.Sidecar.Lsp;

/// <summary>
/// Which documents must never reach the endpoint, decided on the real file (symlinks resolved, so an innocent
/// name cannot smuggle a key file) and on the text:
/// <list type="bullet">
/// <item>built-in secret patterns (as Continue's list, plus the usual credential files in a home folder), matched
/// against every suffix of the path, so <c>~/.ssh/config</c> and <c>/srv/app/.aws/config</c> match like
/// <c>.ssh/config</c>;</item>
/// <item>the <c>.noirignore</c> files of the workspace (at the root and in any folder on the way to the file), with
/// gitignore's semantics (<see cref="IgnoreRules"/>), read again whenever one changes;</item>
/// <item>files outside the workspace folder: sensitive (another project's code, your home folder's dotfiles);</item>
/// <item>any document whose text holds a secret (<see cref="SecretContent"/>), <c>untitled:</c> buffers included:
/// they have no path to judge, so they are judged by their text alone;</item>
/// <item>anything that is neither a file nor an untitled buffer (a git: or remote document): sensitive.</item>
/// </list>
/// </summary>
public sealed class SensitiveFiles
{
    public const string IgnoreFile = ".noirignore";

    public static readonly string[] BuiltIn =
    {
        ".env", ".env.*", "*.env", "*.pem", "*.key", "*.p12", "*.pfx", "*.crt", "*.keystore", "*.jks", "id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*",
        "*.secret", "*.secrets", "secrets/**", ".npmrc", ".pypirc", ".netrc", "_netrc", "credentials*", "*.kdbx", ".aws/**", ".ssh/**",
        ".kube/config", ".kube/**", ".docker/config.json", ".git-credentials", ".pgpass", "*.tfvars", "*.tfvars.json", "*.tfstate", "*.tfstate.*",
        "secrets.json", "secrets.yaml", "secrets.yml", ".gnupg/**", ".vault-token", "*.ovpn", ".htpasswd",
    };

    static readonly Regex[] BuiltInPatterns = BuiltIn.Select(IgnoreRules.ToRegex).ToArray();
    readonly string? _root;
    readonly Dictionary<string, (DateTime Written, long Length, DateTime Read, IgnoreRules? Rules)> _ignoreFiles = new();
    /// <summary>The coarsest file time stamp in use (FAT's 2 s): a file read within it of its time stamp may change
    /// again without a new one, so it is read again until the stamp is that old (as git does with "racily clean" files).</summary>
    static readonly TimeSpan TimestampTick = TimeSpan.FromSeconds(2);

    /// <param name="root">the workspace folder; null: no workspace, so nothing is "outside" it</param>
    public SensitiveFiles(string? root = null) { _root = root == null ? null : RealPath(root); }

    public static SensitiveFiles ForWorkspace(string? root) => new(root);

    public bool IsSensitive(string uri, string? text = null) => Reason(uri, text) != null;

    /// <returns>why the document is sensitive (never its content), or null when it may be sent</returns>
    public string? Reason(string uri, string? text = null)
    {
        if (text != null && SecretContent.Find(text) is { } secret) return $"it holds {secret}";
        if (uri.StartsWith("untitled:", StringComparison.OrdinalIgnoreCase)) return null;
        if (!Uri.TryCreate(uri, UriKind.Absolute, out var u) || !u.IsFile) return "it is not a file on this machine";
        string path = u.LocalPath, real;
        try { real = RealPath(path); }
        catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException) { return "its path cannot be resolved"; }
        foreach (var p in path == real ? new[] { path } : new[] { path, real })
            if (MatchesBuiltIn(p)) return "its name is a secret file's";
        if (_root == null) return null;
        string relative = Path.GetRelativePath(_root, real);
        if (relative == "." || relative.StartsWith("..") || Path.IsPathRooted(relative)) return "it is outside the workspace folder";
        return IgnoredInWorkspace(relative.Replace('\\', '/')) ? $"a {IgnoreFile} names it" : null;
    }

    static bool MatchesBuiltIn(string path)
    {
        var parts = path.Replace('\\', '/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        for (int start = parts.Length - 1; start >= 0; start--)
        {
            string suffix = string.Join('/', parts, start, parts.Length - start);
            if (BuiltInPatterns.Any(r => r.IsMatch(suffix))) return true;
        }
        return false;
    }

    /// <summary>Every .noirignore from the root down to the file's folder, deeper ones last (they win, as in git).</summary>
    bool IgnoredInWorkspace(string relative)
    {
        var parts = relative.Split('/');
        bool ignored = false;
        for (int depth = 0; depth < parts.Length; depth++)
        {
            string folder = Path.Combine(_root!, string.Join('/', parts, 0, depth));
            if (Rules(Path.Combine(folder, IgnoreFile)) is not { } rules) continue;
            if (rules.Match(string.Join('/', parts, depth, parts.Length - depth)) is bool verdict) ignored = verdict;
        }
        return ignored;
    }

    /// <summary>An ignore file's rules, read again when it was written since (an edit after start counts at once).</summary>
    IgnoreRules? Rules(string file)
    {
        var info = new FileInfo(file);
        lock (_ignoreFiles)
        {
            if (!info.Exists) { _ignoreFiles.Remove(file); return null; }
            if (_ignoreFiles.TryGetValue(file, out var cached) && cached.Written == info.LastWriteTimeUtc && cached.Length == info.Length
                && cached.Read - cached.Written >= TimestampTick) return cached.Rules;
            var read = DateTime.UtcNow;
            IgnoreRules? rules;
            try { rules = IgnoreRules.Read(file); }
            catch (IOException) { rules = null; }
            _ignoreFiles[file] = (info.LastWriteTimeUtc, info.Length, read, rules);
            return rules;
        }
    }

    [DllImport("libc", EntryPoint = "realpath", SetLastError = true)]
    static extern IntPtr NativeRealPath(string path, IntPtr resolved);

    [DllImport("libc", EntryPoint = "free")]
    static extern void NativeFree(IntPtr p);

    /// <summary>The path with every symlink resolved; for a file that does not exist (yet), its folder's real path.</summary>
    public static string RealPath(string path)
    {
        string full = Path.GetFullPath(path);
        if (OperatingSystem.IsWindows()) return full;
        IntPtr p = NativeRealPath(full, IntPtr.Zero);
        if (p != IntPtr.Zero)
        {
            try { return Marshal.PtrToStringUTF8(p) ?? full; }
            finally { NativeFree(p); }
        }
        string? parent = Path.GetDirectoryName(full);
        return parent == null || parent == full ? full : Path.Combine(RealPath(parent), Path.GetFileName(full));
    }
}
