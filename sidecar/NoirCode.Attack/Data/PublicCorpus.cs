using System.Diagnostics;
using NoirCode.Core.Tokenization;

namespace NoirCode.Attack.Data;

/// <summary>
/// The attacker's public code: Python standard-library files (what the public model was trained on), read at
/// run time. Files come in a fixed shuffled order so that any prefix of the corpus spans many modules.
/// </summary>
public sealed class PublicCorpus
{
    static readonly string[] ExcludedDirs = { "test", "tests", "idle_test", "site-packages", "__pycache__", "lib2to3", "turtledemo" };

    /// <summary>Token ids per document, in the fixed order.</summary>
    public List<int[]> Documents { get; } = new();
    public string Source { get; private init; } = "";
    public long TokenCount => Documents.Sum(d => (long)d.Length);

    /// <param name="folder">a folder of *.py files; null: the stdlib of the python3 on PATH</param>
    /// <param name="maxTokens">stop reading once this many tokens are collected</param>
    public static PublicCorpus Load(string? folder, CodeTokenizer tokenizer, long maxTokens, int seed = 5)
    {
        folder ??= PythonStdlib();
        if (!Directory.Exists(folder)) throw new IOException($"public code folder {folder} does not exist");
        var files = Directory.EnumerateFiles(folder, "*.py", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(folder, f).Replace('\\', '/'))
            .Where(rel => !rel.Split('/')[..^1].Any(ExcludedDirs.Contains) && !Path.GetFileName(rel).StartsWith("test_", StringComparison.Ordinal))
            .OrderBy(rel => rel, StringComparer.Ordinal).ToList();
        var rng = new Random(seed);
        for (int i = files.Count - 1; i > 0; i--) { int j = rng.Next(i + 1); (files[i], files[j]) = (files[j], files[i]); }
        var corpus = new PublicCorpus { Source = folder };
        long total = 0;
        foreach (var rel in files)
        {
            if (total >= maxTokens) break;
            var info = new FileInfo(Path.Combine(folder, rel));
            if (info.Length == 0 || info.Length > 300_000) continue;
            var ids = tokenizer.Encode(File.ReadAllText(info.FullName).Replace("\r\n", "\n")).ToArray();
            if (ids.Length == 0) continue;
            if (total + ids.Length > maxTokens) ids = ids[..(int)(maxTokens - total)];
            corpus.Documents.Add(ids);
            total += ids.Length;
        }
        if (corpus.Documents.Count == 0) throw new IOException($"no public Python files under {folder}");
        return corpus;
    }

    /// <summary>Another view of some of the documents (e.g. in a different order).</summary>
    public static PublicCorpus Slice(List<int[]> documents)
    {
        var c = new PublicCorpus();
        c.Documents.AddRange(documents);
        return c;
    }

    /// <summary>Windows of at most <paramref name="length"/> tokens, one per document in turn, until
    /// <paramref name="tokens"/> are collected: the public inputs whose encoder outputs the attacker studies.</summary>
    public List<int[]> Windows(int length, long tokens)
    {
        var windows = new List<int[]>();
        long total = 0;
        for (int round = 0; total < tokens && round < 1000; round++)
        {
            bool any = false;
            foreach (var doc in Documents)
            {
                if (total >= tokens) break;
                int start = round * length;
                if (start >= doc.Length) continue;
                any = true;
                var w = doc[start..Math.Min(doc.Length, start + length)];
                if (w.Length < 8) continue;
                windows.Add(w);
                total += w.Length;
            }
            if (!any) break;
        }
        return windows;
    }

    /// <summary>The stdlib folder of the python3 on PATH.</summary>
    public static string PythonStdlib()
    {
        var psi = new ProcessStartInfo("python3", "-c \"import sysconfig; print(sysconfig.get_paths()['stdlib'])\"")
        { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        try
        {
            using var p = Process.Start(psi)!;
            string output = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit(10_000);
            if (p.ExitCode == 0 && Directory.Exists(output)) return output;
        }
        catch (System.ComponentModel.Win32Exception) { }
        throw new IOException("could not find public code: python3 is not on PATH; pass --public DIR (a folder of .py files)");
    }
}
