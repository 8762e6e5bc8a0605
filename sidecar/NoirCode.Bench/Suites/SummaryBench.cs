using System.Text.Json.Nodes;
using NoirCode.Bench.Infrastructure;

namespace NoirCode.Bench.Suites;

/// <summary>The headline figures against their targets, read back from docs/benchmarks.json (run it last).</summary>
public static class SummaryBench
{
    public static void Run(BenchContext ctx)
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(ctx.Repo, "docs", "benchmarks.json")))!.AsObject();
        double? Get(string key) => json[key] is JsonValue v && v.TryGetValue<double>(out double d) ? d : json[key] is JsonValue b && b.TryGetValue<bool>(out bool x) ? (x ? 1 : 0) : null;
        string Row(string what, string key, Func<double, string> show, string target, Func<double, bool> met, string section) =>
            Get(key) is double v ? $"| {what} | {show(v)} | {target} | {(met(v) ? "met" : "**missed**")} | {section} |" : $"| {what} | not measured | {target} | — | {section} |";
        double hidden = Get("hidden_size") ?? 0;
        var rows = new[]
        {
            Row("split ÷ unsplit, per decode token, loopback", "split_over_unsplit_per_token", v => $"{v:F2}×", "≤ 1.07×", v => v <= 1.07, "1"),
            Row("split ÷ unsplit, per decode token, unix socket (the embedded default)", "split_over_unsplit_per_token_uds", v => $"{v:F2}×", "≤ 1.07×", v => v <= 1.07, "1"),
            Row("time to first suggestion, warm, 1k tokens, p50", "ttfs_warm_1k_p50_ms", v => $"{v:F0} ms", "≤ 300 ms", v => v <= 300, "2"),
            Row("time to first suggestion, warm, 1k tokens, p95", "ttfs_warm_1k_p95_ms", v => $"{v:F0} ms", "≤ 500 ms", v => v <= 500, "2"),
            Row("speculative decoding: tokens per round trip, held-out code", "accepted_tokens_per_trip", v => $"{v:F2} ({Get("speculative_extra_sent_per_token"):F2} extra sent per token)", "≥ 2", v => v >= 2, "1b"),
            Row("Generate Function at +50 ms RTT", "generate_tok_s_rtt50", v => $"{v:F1} tok/s", "≥ 15 tok/s", v => v >= 15, "1b"),
            Row("suggestion at +50 ms RTT, warm, 1k tokens, p50", "ttfs_warm_1k_p50_ms_rtt50", v => $"{v:F0} ms", "≤ 400 ms", v => v <= 400, "2b"),
            Row("suggestion at +50 ms RTT, warm, 1k tokens, p95", "ttfs_warm_1k_p95_ms_rtt50", v => $"{v:F0} ms", "≤ 700 ms", v => v <= 700, "2b"),
            Row("unsplit decode ÷ llama.cpp's, same weights, Qwen2.5-Coder-0.5B shape", "llamacpp_time_ratio_0p5b", v => $"{v:F2}× (roofline {Get("decode_roofline_ms_0p5b"):F1} ms/token)", "≤ 1.5×", v => v <= 1.5, "7"),
            Row("wire bytes per token, fp16", "bytes_per_token_fp16", v => $"{v:F0} B ({4 * hidden:F0} B hidden states + {v - 4 * hidden:F0} B framing)", $"2 × {hidden:F0} × 2 + small framing", v => v >= 4 * hidden && v - 4 * hidden < 4 * hidden, "3"),
            Row("endpoint tokens/s, 16 sessions ÷ 1", "throughput_16_over_1", v => $"{v:F1}×", "≥ 6×", v => v >= 6, "4"),
            Row("load: failed requests (64 sessions)", "load_failed", v => $"{v:F0} in {Get("load_minutes"):0.#} min, p99 step {Get("load_step_p99_ms"):F0} ms", "0", v => v == 0 && Get("load_memory_bounded") == 1, "load"),
            Row("kill -9 endpoint → clear error (sidecar)", "fault_endpoint_kill_to_error_ms_interactive", v => $"{v:F0} ms", "≤ 1 s", v => v <= 1000, "faults"),
            Row("kill -9 sidecar → ledger intact", "fault_sidecar_kill_ledger_intact", v => v == 1 ? "yes" : "no", "yes", v => v == 1, "faults"),
            Row("malformed LSP messages: crashes + hangs", "fuzz_lsp_crashes", v => $"{v + (Get("fuzz_lsp_hangs") ?? 0):F0} of {Get("fuzz_lsp_messages"):N0}", "0, ≥ 10,000 sent", v => v + (Get("fuzz_lsp_hangs") ?? 1) == 0 && Get("fuzz_lsp_findings") == 0 && Get("fuzz_lsp_messages") >= 10_000, "fuzz-lsp"),
            Row("malformed gRPC requests: crashes + hangs", "fuzz_grpc_crashes", v => $"{v + (Get("fuzz_grpc_hangs") ?? 0):F0} of {Get("fuzz_grpc_requests"):N0}", "0, ≥ 10,000 sent", v => v + (Get("fuzz_grpc_hangs") ?? 1) == 0 && Get("fuzz_grpc_findings") == 0 && Get("fuzz_grpc_requests") >= 10_000, "fuzz-grpc"),
        };
        string md = $"""
            ## Summary

            The headline figures against the targets of issues #9 and #17, read from `docs/benchmarks.json` by {ctx.Command()}; each comes from the
            section named, with its command, machine and load. The development machine has 2 vCPUs shared with other agents' builds and
            tests, so timings are noisy (each section notes the load average); ratios were measured side by side in one run.

            {(Charts.Compose(ctx.Repo) != null ? "![all charts](benchmarks.png)\n" : "")}
            | figure | measured | target | | section |
            | --- | --- | --- | --- | --- |
            {string.Join("\n", rows)}
            """;
        BenchReport.Write(ctx.Repo, "summary", md, new JsonObject());
    }
}
