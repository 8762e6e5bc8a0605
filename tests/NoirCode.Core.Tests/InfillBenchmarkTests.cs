using NoirCode.Evaluation;
using NoirCode.Core.Generation;
using NoirCode.Core.Tokenization;

namespace NoirCode.Core.Tests;

public class InfillBenchmarkTests
{
    static string Benchmark()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "benchmarks", "HumanEval-SingleLineInfilling.jsonl.gz");
            if (File.Exists(candidate)) return candidate;
        }
        Assert.Fail("shared/benchmarks is missing beside the repository");
        return "";
    }

    /// <summary>A "model" that writes the canonical line of each task (given in order), to check the scoring.</summary>
    sealed class Oracle(CodeTokenizer tok, IReadOnlyList<string> lines) : IInferenceSession
    {
        int _task = -1, _emitted;
        List<int> _ids = new();
        public long Length { get; private set; }

        public float[] Append(IReadOnlyList<int> ids)
        {
            if (Length == 0) { _task++; _ids = tok.Encode(lines[_task]).ToList(); _ids.Add(tok.SpecialId("<|endoftext|>")); _emitted = 0; }
            Length += ids.Count;
            var logits = new float[tok.IdCount];
            logits[_ids[Math.Min(_emitted++, _ids.Count - 1)]] = 1;
            return logits;
        }

        public void Truncate(long length) => Length = length;
        public void Dispose() { }
    }

    [Test]
    public void TheCanonicalLinesScorePerfectlyAndAWrongLineDoesNot()
    {
        var tasks = InfillTask.Load(Benchmark()).Take(6).ToList();
        var tok = CodeTokenizer.Load(TestModels.Get());
        var perfect = InfillBenchmark.Run(new Oracle(tok, tasks.Select(t => t.Solution).ToList()), tok, 1024, tasks);
        Assert.That(perfect.ExactMatch, Is.EqualTo(1));
        Assert.That(perfect.EditSimilarity, Is.EqualTo(1));
        Assert.That(perfect.PassAt1, Is.EqualTo(1), "the canonical solutions pass their tests");
        var wrong = InfillBenchmark.Run(new Oracle(tok, tasks.Select(_ => "    return None\n").ToList()), tok, 1024, tasks);
        Assert.That(wrong.ExactMatch, Is.Zero);
        Assert.That(wrong.PassAt1, Is.LessThan(0.5));
        Assert.That(wrong.EditSimilarity, Is.InRange(0.01, 0.99));
    }

    [Test]
    public void TestsRunIsolatedWithATimeLimit()
    {
        Assert.That(PythonTestRunner.Passes("assert 1 + 1 == 2\n", TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(PythonTestRunner.Passes("assert 1 + 1 == 3\n", TimeSpan.FromSeconds(10)), Is.False);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.That(PythonTestRunner.Passes("while True: pass\n", TimeSpan.FromSeconds(1)), Is.False);
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
        // A listener on this machine's loopback: reachable from a normal process, not from the sandbox.
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        string connect = $"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)\n";
        Assert.That(PythonTestRunner.NetworkIsolated, Is.True, "unshare is available here, so tests run without network");
        Assert.That(PythonTestRunner.Passes(connect, TimeSpan.FromSeconds(10)), Is.False, "no network inside the sandbox, not even loopback");
        listener.Stop();
        Assert.That(PythonTestRunner.Passes("import os\nassert os.listdir('.') == ['candidate.py']\n", TimeSpan.FromSeconds(10)), Is.True, "a throwaway folder");
    }

    [TestCase("abc", "abc", 1.0)]
    [TestCase("", "", 1.0)]
    [TestCase("abc", "", 0.0)]
    [TestCase("kitten", "sitting", 1 - 3.0 / 7)]
    public void EditSimilarityIsOneMinusNormalisedLevenshtein(string a, string b, double expected) =>
        Assert.That(InfillBenchmark.EditSimilarity(a, b), Is.EqualTo(expected).Within(1e-12));
}
