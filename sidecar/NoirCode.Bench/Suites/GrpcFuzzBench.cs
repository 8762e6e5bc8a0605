using System.Text.Json.Nodes;
using NoirCode.Bench.Infrastructure;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Testing.Fuzzing;

namespace NoirCode.Bench.Suites;

/// <summary>Malformed gRPC requests (default 10,000) to a real `noir cloud serve` process; then a correct session.</summary>
public static class GrpcFuzzBench
{
    public static void Run(BenchContext ctx)
    {
        int count = BenchArgs.Count ?? (ctx.Quick ? 1000 : 10_000);
        var config = ModelConfig.Load(ctx.Model);
        string fingerprint = ModelFingerprint.Of(ctx.ClientShard);
        using var endpoint = EndpointProcess.Start(ctx.CloudShard);
        using var fuzzer = new GrpcFuzzer(endpoint.Address, fingerprint, config.HiddenSize, config.MaxPositions)
        {
            OnlyCases = BenchArgs.Cases,
            CaseTimeout = BenchArgs.CaseTimeoutSeconds is double t ? TimeSpan.FromSeconds(t) : TimeSpan.FromSeconds(20),
        };
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var report = fuzzer.RunAsync(count, seed: 1, () => !endpoint.HasExited, progress: n => Console.Error.WriteLine($"{n:N0}/{count:N0} requests, {clock.Elapsed.TotalSeconds:F0} s")).GetAwaiter().GetResult();
        // Streams the client gave up on (a case's time limit) still finish their queued work on the endpoint: wait for
        // every session to close, which also shows that none leaked.
        var drain = System.Diagnostics.Stopwatch.StartNew();
        int leftOpen;
        while ((leftOpen = fuzzer.OpenSessionsAsync().GetAwaiter().GetResult()) > 0 && drain.Elapsed < TimeSpan.FromSeconds(120)) Thread.Sleep(1000);
        if (leftOpen > 0) report.Find($"{leftOpen} sessions were still open 2 minutes after the run");
        Console.Error.WriteLine($"sessions left open: {leftOpen} (after {drain.Elapsed.TotalSeconds:F0} s)");
        Thread.Sleep(1500); // past the rate limiter's window
        string detail = "the endpoint had exited";
        report.AnswersCorrectlyAfter = !endpoint.HasExited && GrpcFuzzer.AnswersCorrectly(endpoint.Address, fingerprint, CloudShard.Load(ctx.CloudShard), out detail);
        Console.Error.WriteLine(report.Summary());
        foreach (var f in report.Findings) Console.Error.WriteLine("finding: " + f);
        if (!report.Passed) BenchArgs.Failed = true;
        string md = $"""
            ## Fuzzing: malformed gRPC requests to a real endpoint

            Machine: {BenchReport.Machine()}. Command: {ctx.Command(BenchArgs.Count is int c ? $" --count {c}" : "")} ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC), {clock.Elapsed.TotalSeconds:F0} s.
            A `noir cloud serve` process (bundled model's middle) receives {count:N0} malformed requests, 8 at a time, each drawn from:
            {string.Join(", ", GrpcFuzzer.Names)} (bad shapes and byte counts, NaN/∞ in values and int8 scales, 3e38 values,
            unknown enum values, positions and lengths up to 2⁶⁴−1, 33 MB messages, the wrong message order, training streams gone
            wrong, and raw HTTP/2 requests whose gRPC frame is cut short or is random bytes). Pass: the process stays up, no request
            hangs ({fuzzer.CaseTimeout.TotalSeconds:0.#} s), none ends in Internal/Unknown (an unhandled server exception), and a well-formed session afterwards gets
            the in-process middle blocks' answer ({detail}). Every session had closed {drain.Elapsed.TotalSeconds:F0} s after the last request
            (streams given up by the client finish their queued work first).

            **Result: {(report.Passed ? "pass" : "FAIL")}.** {report.Summary()}.
            {(report.Findings.IsEmpty ? "" : "Findings: " + string.Join("; ", report.Findings.Take(10)))}
            """;
        BenchReport.Write(ctx.Repo, "fuzz-grpc", md, new JsonObject
        {
            ["fuzz_grpc_requests"] = report.Sent, ["fuzz_grpc_crashes"] = report.Crashed ? 1 : 0, ["fuzz_grpc_hangs"] = report.Hangs,
            ["fuzz_grpc_findings"] = report.Findings.Count, ["fuzz_grpc_answers_correctly_after"] = report.AnswersCorrectlyAfter,
        });
    }
}
