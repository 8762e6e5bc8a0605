using System.Text.Json;
using System.Text.Json.Nodes;
using NoirCode.Bench.Infrastructure;
using NoirCode.Testing.Lsp;
using NoirCode.Testing.Fuzzing;

namespace NoirCode.Bench.Suites;

/// <summary>Malformed LSP messages (default 10,000) to a real `noir lsp` process; then a correct completion.</summary>
public static class LspFuzzBench
{
    public static void Run(BenchContext ctx)
    {
        int count = BenchArgs.Count ?? (ctx.Quick ? 1000 : 10_000);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        string workspace = Directory.CreateDirectory(Path.Combine(ctx.Work, "workspace")).FullName;
        using var lsp = LspProcess.Start();
        lsp.InitializeUntilReadyAsync(new { modelFolder = ctx.Model, maxNewTokens = 8 }, workspace).GetAwaiter().GetResult();
        var (report, detail) = LspFuzzer.RunCheckedAsync(lsp, workspace, count, seed: 1, progress: n => Console.Error.WriteLine($"{n:N0}/{count:N0} messages, {clock.Elapsed.TotalSeconds:F0} s"))
            .GetAwaiter().GetResult();
        Console.Error.WriteLine(report.Summary());
        foreach (var f in report.Findings) Console.Error.WriteLine("finding: " + f);
        if (report.Crashed) Console.Error.WriteLine($"sidecar exited: {lsp.HasExited} (code {lsp.ExitCode}); reader: {lsp.ReaderError?.Message}");
        if (report.Crashed) foreach (var line in lsp.StderrTail) Console.Error.WriteLine("sidecar stderr: " + line);
        if (!report.Passed) BenchArgs.Failed = true;
        string md = $"""
            ## Fuzzing: malformed LSP messages to a real `noir lsp`

            Machine: {BenchReport.Machine()}. Command: {ctx.Command(BenchArgs.Count is int c ? $" --count {c}" : "")} ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC), {clock.Elapsed.TotalSeconds:F0} s.
            The sidecar process with the bundled model and its local endpoint receives {count:N0} malformed messages over stdio: broken
            headers (negative, 40-digit and missing lengths, 20 KB header lines, a 16 MB + 1 body), bodies that are not JSON (random
            bytes, 5,000-deep arrays, single quotes, empty), requests cut short, JSON-RPC envelopes of the wrong shape (ids that are
            arrays, objects, floats; methods that are numbers; params that are scalars; stray responses; batches), and the server's
            own methods with wrong types, negative and 2⁵³ positions, inverted ranges, 2.5 MB texts, unknown and secret documents,
            bad commands and settings, cancellations of nothing (suggestions capped at 8 tokens to keep the run short). After every 50 messages a ping must be answered within 60 s.
            Pass: no crash, no hang, every request answered (none with an internal error), and afterwards a completion for a
            document opened before the fuzzing is the same as before it ({detail}).

            **Result: {(report.Passed ? "pass" : "FAIL")}.** {report.Summary()}.
            {(report.Findings.IsEmpty ? "" : "Findings: " + string.Join("; ", report.Findings.Take(10)))}
            """;
        BenchReport.Write(ctx.Repo, "fuzz-lsp", md, new JsonObject
        {
            ["fuzz_lsp_messages"] = report.Sent, ["fuzz_lsp_crashes"] = report.Crashed ? 1 : 0, ["fuzz_lsp_hangs"] = report.Hangs,
            ["fuzz_lsp_findings"] = report.Findings.Count, ["fuzz_lsp_answers_correctly_after"] = report.AnswersCorrectlyAfter,
        });
        if (!lsp.HasExited) lsp.ShutdownAsync().GetAwaiter().GetResult();
    }

}
