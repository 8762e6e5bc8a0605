using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace NoirCode.Training;

/// <summary>
/// The training corpus: Python standard-library modules (PSF-2.0) from every Python installed with pyenv,
/// optionally with the standard library's own test suites (also PSF-2.0; the tests of held-out modules stay out),
/// and optionally further permissively licensed files (<see cref="DebianPythonSources"/>), always for training.
/// Versions repeat the same module with small changes, so each module path is kept once (from the newest
/// version), and whole modules are held out for evaluation in every version. Exact duplicates are dropped, and
/// files sharing any 13-word sequence with a benchmark prompt or solution.
/// </summary>
public sealed class PythonCorpus
{
    public static readonly string[] HeldOutModules = { "email", "json", "asyncio", "csv.py", "textwrap.py", "statistics.py", "heapq.py" };
    static readonly string[] TestDirs = { "test", "tests", "idle_test" };
    static readonly string[] ExcludedDirs = { "site-packages", "pydoc_data", "encodings", "__pycache__", "lib2to3", "turtledemo", "__phello__", "ensurepip" };
    const int MaxFileBytes = 300_000, NGram = 13;

    public List<(string Module, string Text)> Train { get; } = new();
    public List<(string Module, string Text)> HeldOut { get; } = new();
    public int DroppedForBenchmarkOverlap { get; private set; }
    public int DroppedForHeldOutOverlap { get; private set; }
    public int DuplicateVersions { get; private set; }
    public List<string> Versions { get; } = new();

    public static PythonCorpus Build(string pyenvVersions, IEnumerable<string> benchmarkFiles, bool withTests = false,
        IReadOnlyList<(string Module, string Path)>? extraFiles = null)
    {
        var corpus = new PythonCorpus();
        var benchmarkGrams = BenchmarkNGrams(benchmarkFiles);
        var newest = new Dictionary<string, (Version Version, string Path)>();
        foreach (var versionDir in Directory.GetDirectories(pyenvVersions))
        {
            if (!Version.TryParse(Path.GetFileName(versionDir), out var version) || version.Major < 3) continue;
            var lib = Directory.GetDirectories(Path.Combine(versionDir, "lib"), "python3.*").FirstOrDefault();
            if (lib == null) continue;
            corpus.Versions.Add(version.ToString());
            foreach (var file in Directory.EnumerateFiles(lib, "*.py", SearchOption.AllDirectories))
            {
                string rel = Path.GetRelativePath(lib, file).Replace('\\', '/');
                var parts = rel.Split('/');
                bool isTest = parts[..^1].Any(TestDirs.Contains) || parts[^1].StartsWith("test_", StringComparison.Ordinal);
                if (parts[..^1].Any(ExcludedDirs.Contains) || (isTest && (!withTests || TestsHeldOutModule(parts)))) continue;
                if (new FileInfo(file).Length > MaxFileBytes) continue;
                if (newest.TryGetValue(rel, out var seen)) { corpus.DuplicateVersions++; if (seen.Version > version) continue; }
                newest[rel] = (version, file);
            }
        }
        var hashes = new HashSet<string>();
        bool Unique(string text) => hashes.Add(Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text))));
        foreach (var (rel, (_, path)) in newest.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            string text = File.ReadAllText(path).Replace("\r\n", "\n");
            if (!Unique(text)) { corpus.DuplicateVersions++; continue; }
            if (Grams(text).Any(benchmarkGrams.Contains)) { corpus.DroppedForBenchmarkOverlap++; continue; }
            bool heldOut = HeldOutModules.Any(m => rel == m || rel.StartsWith(m + "/", StringComparison.Ordinal));
            (heldOut ? corpus.HeldOut : corpus.Train).Add((rel, text));
        }
        // A package may carry a copy of a held-out module; training on it would flatter the held-out loss.
        var heldOutGrams = corpus.HeldOut.SelectMany(m => Grams(m.Text)).ToHashSet();
        foreach (var (module, path) in extraFiles ?? Array.Empty<(string, string)>())
        {
            string text = File.ReadAllText(path).Replace("\r\n", "\n");
            if (!Unique(text)) { corpus.DuplicateVersions++; continue; }
            var grams = Grams(text).ToList();
            if (grams.Any(benchmarkGrams.Contains)) { corpus.DroppedForBenchmarkOverlap++; continue; }
            if (grams.Any(heldOutGrams.Contains)) { corpus.DroppedForHeldOutOverlap++; continue; }
            corpus.Train.Add((module, text));
        }
        return corpus;
    }

    /// <summary>test_json.py, test/test_email/…: the tests of a held-out module would leak it into training.</summary>
    static bool TestsHeldOutModule(string[] parts) => parts.Any(p => HeldOutModules.Any(m =>
    {
        string name = m.EndsWith(".py", StringComparison.Ordinal) ? m[..^3] : m;
        return p == "test_" + name || p.StartsWith("test_" + name + ".", StringComparison.Ordinal) || p.StartsWith("test_" + name + "_", StringComparison.Ordinal);
    }));

    /// <summary>Hashes of every 13-word window of the benchmarks' prompts, suffixes and solutions.</summary>
    static HashSet<long> BenchmarkNGrams(IEnumerable<string> files)
    {
        var grams = new HashSet<long>();
        foreach (var file in files)
        {
            using var reader = new StreamReader(new GZipStream(File.OpenRead(file), CompressionMode.Decompress));
            while (reader.ReadLine() is { } line)
            {
                var o = JsonNode.Parse(line)!.AsObject();
                foreach (var field in new[] { "prompt", "suffix", "canonical_solution" })
                    if (o[field] is JsonValue v) foreach (var g in Grams(v.GetValue<string>())) grams.Add(g);
            }
        }
        return grams;
    }

    static IEnumerable<long> Grams(string text)
    {
        var words = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        for (int i = 0; i + NGram <= words.Length; i++)
        {
            long h = 1469598103934665603;
            for (int j = i; j < i + NGram; j++) h = (h ^ words[j].GetHashCode(StringComparison.Ordinal)) * 1099511628211;
            yield return h;
        }
    }
}
