using System.Diagnostics;

namespace NoirCode.Bench.Infrastructure;

/// <summary>
/// Python source the bundled model never trained on: the modules its training held out in every version
/// (models/noir-coder-8m/README.md), read from this machine's python3 standard library.
/// </summary>
public static class HeldOutCode
{
    static readonly string[] Modules = { "json", "email", "asyncio", "csv.py", "textwrap.py", "statistics.py", "heapq.py" };

    public static IReadOnlyList<string> Files()
    {
        string stdlib = StdlibFolder();
        var files = new List<string>();
        foreach (var m in Modules)
        {
            string path = Path.Combine(stdlib, m);
            if (File.Exists(path)) files.Add(path);
            else if (Directory.Exists(path)) files.AddRange(Directory.EnumerateFiles(path, "*.py", SearchOption.AllDirectories).Where(f => !f.Contains("/test")).Order(StringComparer.Ordinal));
        }
        if (files.Count == 0) throw new FileNotFoundException($"no held-out modules under {stdlib}");
        return files;
    }

    public static IReadOnlyList<string> Texts(int minChars = 2000) =>
        Files().Select(File.ReadAllText).Where(t => t.Length >= minChars).ToList();

    static string StdlibFolder()
    {
        var psi = new ProcessStartInfo("python3", "-c \"import sysconfig; print(sysconfig.get_paths()['stdlib'])\"") { RedirectStandardOutput = true, UseShellExecute = false };
        using var p = Process.Start(psi) ?? throw new IOException("python3 is needed to find the held-out standard-library modules");
        string path = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        return Directory.Exists(path) ? path : throw new DirectoryNotFoundException($"python3's standard library not found ({path})");
    }
}
