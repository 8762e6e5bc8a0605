using System.Diagnostics;
using NoirCode.Core.Generation;
using NoirCode.Core.Tokenization;
using NoirCode.Core.Util;

namespace NoirCode.Evaluation;

public sealed record InfillResult(int N, double ExactMatch, double EditSimilarity, double PassAt1, TimeSpan Elapsed, bool NetworkIsolated);

/// <summary>
/// HumanEval single-line infilling: a FIM prompt from each task's prompt and suffix, one greedy line, then
/// exact match and edit similarity against the canonical line (trailing whitespace ignored), and pass@1 by
/// running the task's tests on prompt + line + suffix.
/// </summary>
public static class InfillBenchmark
{
    public const int MaxNewTokens = 48;

    /// <param name="suffixFirst">suffix-prefix-middle prompts (as the editor's completion engine sends them) instead of prefix-suffix-middle</param>
    public static InfillResult Run(IInferenceSession session, CodeTokenizer tokenizer, int maxPositions, IReadOnlyList<InfillTask> tasks,
        IProgressSink? progress = null, int testParallelism = 2, bool suffixFirst = false)
    {
        progress ??= NullProgress.Instance;
        var fim = tokenizer.Fim ?? throw new ArgumentException("the model's tokenizer has no fill-in-the-middle tokens");
        var clock = Stopwatch.StartNew();
        var completions = new string[tasks.Count];
        int budget = Math.Min(maxPositions, 1024) - MaxNewTokens - 3;
        for (int i = 0; i < tasks.Count; i++)
        {
            var t = tasks[i];
            var prefix = tokenizer.Encode(t.Prompt).ToList();
            var suffix = tokenizer.Encode(t.Suffix).ToList();
            // Keep the code nearest the hole: drop the start of the prefix and the end of the suffix first.
            while (prefix.Count + suffix.Count > budget)
                if (prefix.Count >= suffix.Count) prefix.RemoveAt(0); else suffix.RemoveAt(suffix.Count - 1);
            session.Truncate(0);
            var result = TextGenerator.Generate(session, tokenizer, suffixFirst ? fim.BuildSpm(prefix, suffix) : fim.BuildPsm(prefix, suffix),
                new GenerationOptions { MaxTokens = MaxNewTokens, StopStrings = new[] { "\n" }, MaxSequenceLength = maxPositions });
            completions[i] = result.Text + "\n";
            progress.Report("infilling", i + 1, tasks.Count);
        }
        progress.Done("infilling");

        int exact = 0;
        double similarity = 0;
        for (int i = 0; i < tasks.Count; i++)
        {
            string got = completions[i].TrimEnd(), want = tasks[i].Solution.TrimEnd();
            if (got == want) exact++;
            similarity += EditSimilarity(got, want);
        }
        int passed = 0, done = 0;
        Parallel.For(0, tasks.Count, new ParallelOptions { MaxDegreeOfParallelism = testParallelism }, i =>
        {
            var t = tasks[i];
            string program = t.Prompt + completions[i] + t.Suffix + "\n" + t.Test + $"\ncheck({t.EntryPoint})\n";
            if (PythonTestRunner.Passes(program, TimeSpan.FromSeconds(10))) Interlocked.Increment(ref passed);
            lock (completions) progress.Report("running tests", ++done, tasks.Count);
        });
        progress.Done("running tests");
        int n = tasks.Count;
        return new InfillResult(n, (double)exact / n, similarity / n, (double)passed / n, clock.Elapsed, PythonTestRunner.NetworkIsolated);
    }

    /// <summary>1 − Levenshtein distance / length of the longer string (1 for two empty strings).</summary>
    public static double EditSimilarity(string a, string b)
    {
        if (a.Length == 0 && b.Length == 0) return 1;
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return 1 - (double)previous[b.Length] / Math.Max(a.Length, b.Length);
    }
}
