using NoirCode.Bench.Infrastructure;
using NoirCode.Bench.Suites;

// noir-bench SUITE [--quick] [--repo DIR] [--count N] [--minutes M]: runs a benchmark, load, fault or fuzzing suite
// and records it in docs/benchmarks.md / .json (+ PNG charts). `all` runs the benchmarks 1-6 (not indvocab's full
// shapes, which take minutes and 7 GB, nor the long load and fuzzing runs).
var suites = new (string Name, string What, Action<BenchContext> Run)[]
{
    ("decode", "1. per-token decode latency, unsplit vs split on loopback and with 20/50 ms RTT", DecodeLatencyBench.Run),
    ("decode-rtt", "1b. Generate Function with and without speculative decoding at 0/20/50/100 ms RTT (part of decode)", SpeculativeDecodeBench.Run),
    ("ttfs", "2. time to first suggestion through `noir lsp` (200/1k/2k tokens, cold/warm)", TimeToFirstSuggestionBench.Run),
    ("ttfs-rtt", "2b. warm time to a suggestion at 0/20/50/100 ms RTT, speculative decoding on and off (part of ttfs)", TimeToSuggestionAtDistanceBench.Run),
    ("wire", "3. wire bytes per token and held-out loss for fp32/fp16/bf16/int8", WireBytesBench.Run),
    ("throughput", "4. endpoint throughput vs concurrent sessions, memory per session", ThroughputBench.Run),
    ("startup", "5. model load time and STuning step time", StartupBench.Run),
    ("indvocab", "5. INDVocab generation (32k and 152k × 4096; --quick: 8k × 1024)", IndVocabBench.Run),
    ("client-share", "6. client share of FLOPs and memory (analytic, from the configs)", ClientShareBench.Run),
    ("llamacpp", "7. llama.cpp on the same weights (GGUF export): probabilities checked, decode and prefill time, bundled and 0.5B shape (2 GB)", LlamaCppPeerBench.Run),
    ("quality", "Q. completion quality through `noir lsp` on held-out code: default, local, unkeyed split (--count N per kind, --modes a,b, --fresh)", QualityBench.Run),
    ("fairness", "one tenant's decode latency while another floods prefills (--minutes M; --baseline-noir DLL: another build, as before)", FairnessBench.Run),
    ("load", "64 concurrent sessions against a real endpoint for 10 minutes (--minutes M)", LoadBench.Run),
    ("faults", "kill -9 the endpoint mid-generation and the sidecar mid-request; corrupt files", FaultsBench.Run),
    ("fuzz-lsp", "malformed LSP messages to a real `noir lsp` (--count N, default 10,000)", LspFuzzBench.Run),
    ("fuzz-grpc", "malformed gRPC requests to a real endpoint (--count N, default 10,000; --cases a,b; --case-timeout S, default 20)", GrpcFuzzBench.Run),
    ("summary", "the headline figures against their targets, from docs/benchmarks.json (run last)", SummaryBench.Run),
};
string[] all = { "decode", "ttfs", "wire", "throughput", "startup", "client-share", "summary" };

string name = args.FirstOrDefault() ?? "help";
bool quick = args.Contains("--quick");
string Arg(string flag, string fallback) { int i = Array.IndexOf(args, flag); return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback; }
string repo = Path.GetFullPath(Arg("--repo", Directory.GetCurrentDirectory()));
BenchArgs.Count = int.TryParse(Arg("--count", ""), out int count) ? count : null;
BenchArgs.Cases = Arg("--cases", "") is { Length: > 0 } cases ? cases.Split(',') : null;
BenchArgs.Modes = Arg("--modes", "") is { Length: > 0 } modes ? modes.Split(',') : null;
BenchArgs.CaseTimeoutSeconds = double.TryParse(Arg("--case-timeout", ""), System.Globalization.CultureInfo.InvariantCulture, out double caseTimeout) ? caseTimeout : null;
BenchArgs.BaselineNoir = Arg("--baseline-noir", "") is { Length: > 0 } baselineNoir ? Path.GetFullPath(baselineNoir) : null;
BenchArgs.Minutes = double.TryParse(Arg("--minutes", ""), System.Globalization.CultureInfo.InvariantCulture, out double minutes) ? minutes : null;

var chosen = name == "all" ? suites.Where(s => all.Contains(s.Name)).ToArray() : suites.Where(s => s.Name == name).ToArray();
if (chosen.Length == 0)
{
    Console.Error.WriteLine("usage: scripts/bench SUITE [--quick] [--count N] [--minutes M]\nsuites:\n  all           the benchmarks 1-6 below (not indvocab, load, faults, fuzz-*)");
    foreach (var s in suites) Console.Error.WriteLine($"  {s.Name,-13} {s.What}");
    return 2;
}
foreach (var suite in chosen)
{
    Console.Error.WriteLine($"== {suite.Name}{(quick ? " (quick)" : "")}: {suite.What}");
    var clock = System.Diagnostics.Stopwatch.StartNew();
    using var context = new BenchContext(repo, suite.Name, quick);
    suite.Run(context);
    Console.Error.WriteLine($"== {suite.Name} done in {clock.Elapsed.TotalSeconds:F0} s");
}
return BenchArgs.Failed ? 1 : 0;
