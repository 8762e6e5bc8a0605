using System.IO.Compression;
using System.Text.Json.Nodes;
using NoirCode.Training;

namespace NoirCode.Training.Tests;

/// <summary>How extra (Debian) files join the standard library: for training only, deduplicated, decontaminated.</summary>
public sealed class PythonCorpusTests : ScratchFolderTests
{
    static string Words(string tag, int n) => string.Join(" ", Enumerable.Range(0, n).Select(i => $"{tag}{i}"));

    string Write(string rel, string text)
    {
        string path = Path.Combine(Root, rel);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    string Benchmark(string prompt)
    {
        string path = Path.Combine(Root, "bench.jsonl.gz");
        using var gz = new GZipStream(File.Create(path), CompressionLevel.Fastest);
        using var w = new StreamWriter(gz);
        w.WriteLine(new JsonObject { ["prompt"] = prompt, ["canonical_solution"] = "" }.ToJsonString());
        return path;
    }

    [Test]
    public void ExtraFilesTrainButNeverCopyTheHeldOutModulesTheBenchmarksOrAnotherFile()
    {
        string lib = "pyenv/3.11.7/lib/python3.11";
        string stdlibModule = Words("stdlib", 30), heldOut = Words("heldout", 30), bench = Words("bench", 20);
        Write($"{lib}/shutil.py", stdlibModule);
        Write($"{lib}/json/__init__.py", heldOut);
        var extra = new List<(string, string)>
        {
            ("debian/p/new.py", Write("extra/new.py", Words("fresh", 30))),
            ("debian/p/copy_of_shutil.py", Write("extra/copy_of_shutil.py", stdlibModule)),
            ("debian/p/vendored_json.py", Write("extra/vendored_json.py", "# vendored\n" + heldOut)),
            ("debian/p/has_benchmark.py", Write("extra/has_benchmark.py", "x = 1\n" + bench)),
        };

        var corpus = PythonCorpus.Build(Path.Combine(Root, "pyenv"), new[] { Benchmark(bench) }, extraFiles: extra);

        Assert.That(corpus.Train.Select(t => t.Module), Is.EqualTo(new[] { "shutil.py", "debian/p/new.py" }));
        Assert.That(corpus.HeldOut.Select(t => t.Module), Is.EqualTo(new[] { "json/__init__.py" }));
        Assert.That((corpus.DuplicateVersions, corpus.DroppedForHeldOutOverlap, corpus.DroppedForBenchmarkOverlap), Is.EqualTo((1, 1, 1)));
    }
}
