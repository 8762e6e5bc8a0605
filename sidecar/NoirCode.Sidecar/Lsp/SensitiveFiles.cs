using System.Text.RegularExpressions;

namespace NoirCode.Sidecar.Lsp;

/// <summary>
/// Files whose content never goes to the endpoint: built-in patterns for secrets (as Continue's list) plus the
/// workspace's .noirignore (gitignore-style globs, one per line).
/// </summary>
public sealed class SensitiveFiles
{
    public static readonly string[] BuiltIn =
    {
        ".env", ".env.*", "*.env", "*.pem", "*.key", "*.p12", "*.pfx", "*.crt", "*.keystore", "*.jks", "id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*",
        "*.secret", "*.secrets", "secrets/**", "**/secrets/**", ".npmrc", ".pypirc", ".netrc", "credentials*", "*.kdbx", ".aws/**", ".ssh/**",
    };
    readonly List<Regex> _patterns;

    public SensitiveFiles(IEnumerable<string>? extraPatterns = null)
    {
        _patterns = BuiltIn.Concat(extraPatterns ?? Array.Empty<string>()).Select(ToRegex).ToList();
    }

    /// <summary>The built-in patterns plus the .noirignore at the workspace root, if any.</summary>
    public static SensitiveFiles ForWorkspace(string? root)
    {
        var extra = new List<string>();
        if (root != null && File.Exists(Path.Combine(root, ".noirignore")))
            extra.AddRange(File.ReadAllLines(Path.Combine(root, ".noirignore")).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')));
        return new SensitiveFiles(extra);
    }

    /// <param name="path">the file's path, relative to the workspace where possible</param>
    public bool IsSensitive(string path)
    {
        string p = path.Replace('\\', '/').TrimStart('/');
        string name = p[(p.LastIndexOf('/') + 1)..];
        return _patterns.Any(r => r.IsMatch(p) || r.IsMatch(name));
    }

    static Regex ToRegex(string glob)
    {
        string g = glob.Trim().TrimStart('/');
        if (g.EndsWith('/')) g += "**";
        var sb = new System.Text.StringBuilder("^");
        for (int i = 0; i < g.Length; i++)
        {
            char c = g[i];
            if (c == '*' && i + 1 < g.Length && g[i + 1] == '*') { sb.Append(".*"); i++; if (i + 1 < g.Length && g[i + 1] == '/') i++; }
            else if (c == '*') sb.Append("[^/]*");
            else if (c == '?') sb.Append("[^/]");
            else sb.Append(Regex.Escape(c.ToString()));
        }
        return new Regex(sb.Append('$').ToString(), RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);
    }
}
