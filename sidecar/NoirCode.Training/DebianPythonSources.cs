namespace NoirCode.Training;

/// <summary>
/// The Python sources of the Debian packages installed on this machine (<c>/usr/lib/python3/dist-packages</c>), each
/// kept only when its package's licence, read from the machine-readable <c>/usr/share/doc/PKG/copyright</c>
/// (DEP-5), is permissive. The licence is the one of the <c>Files: *</c> stanza (the upstream code; Debian's own
/// packaging files are not Python sources). A package whose copyright file is not machine-readable is left out
/// rather than guessed. Vendored copies (<c>_vendor/</c>) carry other projects' licences and are left out too.
/// </summary>
public static class DebianPythonSources
{
    /// <summary>SPDX-like short names Debian uses for permissive licences (compared case-insensitively).</summary>
    static readonly string[] Permissive = { "Expat", "MIT", "BSD-2-clause", "BSD-3-clause", "BSD-3", "BSD", "Apache-2.0", "Apache", "PSF-2", "Python", "ISC", "public-domain", "Zlib" };
    static readonly string[] ExcludedDirs = { "__pycache__", "_vendor" };
    const int MaxFileBytes = 300_000;

    public sealed record Package(string Name, string Licence, bool Kept, int Files, string Why);

    public sealed record Result(List<Package> Packages, List<(string Module, string Path)> Files);

    public static Result Collect(string distPackages = "/usr/lib/python3/dist-packages", string dpkgInfo = "/var/lib/dpkg/info", string docs = "/usr/share/doc")
    {
        var packages = new List<Package>();
        var files = new List<(string, string)>();
        string prefix = distPackages.TrimEnd('/') + "/";
        foreach (var list in Directory.GetFiles(dpkgInfo, "*.list").OrderBy(f => f, StringComparer.Ordinal))
        {
            var sources = File.ReadLines(list)
                .Where(p => p.StartsWith(prefix, StringComparison.Ordinal) && p.EndsWith(".py", StringComparison.Ordinal))
                .Where(p => !p[prefix.Length..].Split('/').SkipLast(1).Any(ExcludedDirs.Contains))
                .Where(p => File.Exists(p) && new FileInfo(p).Length <= MaxFileBytes)
                .ToList();
            if (sources.Count == 0) continue;
            string name = Path.GetFileNameWithoutExtension(list).Split(':')[0];
            string? licence = UpstreamLicence(Path.Combine(docs, name, "copyright"));
            bool kept = licence != null && IsPermissive(licence);
            string why = licence == null ? "copyright file missing or not machine-readable" : kept ? "permissive" : "not permissive";
            packages.Add(new Package(name, licence ?? "", kept, sources.Count, why));
            if (kept) files.AddRange(sources.Select(p => ($"debian/{name}/{p[prefix.Length..]}", p)));
        }
        return new Result(packages, files);
    }

    /// <summary>The License of the <c>Files: *</c> stanza of a DEP-5 copyright file, or null.</summary>
    public static string? UpstreamLicence(string copyrightFile)
    {
        if (!File.Exists(copyrightFile)) return null;
        var text = File.ReadAllText(copyrightFile).Replace("\r\n", "\n");
        if (!text.StartsWith("Format:", StringComparison.Ordinal)) return null;
        foreach (var stanza in text.Split("\n\n"))
        {
            var lines = stanza.Split('\n');
            var files = lines.FirstOrDefault(l => l.StartsWith("Files:", StringComparison.Ordinal));
            if (files == null || files["Files:".Length..].Trim() != "*") continue;
            var licence = lines.FirstOrDefault(l => l.StartsWith("License:", StringComparison.Ordinal))?["License:".Length..].Trim();
            return string.IsNullOrEmpty(licence) ? null : licence;
        }
        return null;
    }

    /// <summary>Every alternative of an "A or B" expression may be chosen, so one permissive alternative suffices; "A and B" needs both.</summary>
    public static bool IsPermissive(string licence) =>
        licence.Split(" or ", StringSplitOptions.TrimEntries).Any(alternative =>
            alternative.Split(new[] { " and ", "," }, StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .All(l => Permissive.Contains(l, StringComparer.OrdinalIgnoreCase)));
}
