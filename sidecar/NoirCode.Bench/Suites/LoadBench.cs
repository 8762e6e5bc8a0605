using System.Diagnostics;
using System.Text.Json.Nodes;
using NoirCode.Bench.Infrastructure;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Testing.Load;

namespace NoirCode.Bench.Suites;

/// <summary>
/// Load: 64 concurrent sessions against a real `noir cloud serve` process for 10 minutes (--minutes M; --quick:
/// 30 s): no request may fail, the endpoint's memory must level off, and the step latency percentiles are reported.
/// </summary>
public static class LoadBench
{
    public static void Run(BenchContext ctx)
    {
        var load = new MachineLoad();
        const int sessions = 64;
        var duration = TimeSpan.FromMinutes(BenchArgs.Minutes ?? (ctx.Quick ? 0.5 : 10));
        var config = ModelConfig.Load(ctx.Model);
        string fingerprint = ModelFingerprint.Of(ctx.ClientShard);
        // All sessions are one tenant here: its request and token rate limits would cap the measurement.
        using var endpoint = EndpointProcess.Start(ctx.CloudShard, 0, "--rate-limit", "1000000", "--token-rate-limit", "100000000");
        long idle = endpoint.ResidentBytes;
        var rss = new List<(double Seconds, long Bytes)>();
        var clock = Stopwatch.StartNew();
        using var sampler = new Timer(_ =>
        {
            try
            {
                long now = endpoint.ResidentBytes;
                lock (rss) rss.Add((clock.Elapsed.TotalSeconds, now));
                double done = Math.Min(1, clock.Elapsed / duration);
                Console.Error.WriteLine($"load: {done:P0}, {clock.Elapsed:mm\\:ss} of {duration:mm\\:ss} (ETA {(duration - clock.Elapsed).Duration():mm\\:ss}), endpoint RSS {now >> 20} MiB");
            }
            catch (IOException) { }
        }, null, TimeSpan.Zero, TimeSpan.FromSeconds(ctx.Quick ? 5 : 15));
        var r = SessionLoad.Run(endpoint.Address, fingerprint, config.HiddenSize, sessions, duration);
        sampler.Dispose();
        bool alive = !endpoint.HasExited;
        (double, long)[] samples;
        lock (rss) samples = rss.ToArray();
        // Bounded: the last third of the run holds no more than 10% above the middle third's peak.
        var middle = samples.Where(s => s.Item1 > duration.TotalSeconds / 3 && s.Item1 <= 2 * duration.TotalSeconds / 3).Select(s => s.Item2).DefaultIfEmpty(0).Max();
        var last = samples.Where(s => s.Item1 > 2 * duration.TotalSeconds / 3).Select(s => s.Item2).DefaultIfEmpty(0).Max();
        bool bounded = middle > 0 && last <= middle * 1.10;
        bool passed = alive && r.Failures == 0 && bounded;
        if (!passed) BenchArgs.Failed = true;
        Console.Error.WriteLine($"{r.Steps:N0} steps, {r.Failures} failed, p50 {Percentiles.Median(r.StepMs):F1} ms, p99 {Percentiles.Of(r.StepMs, 99):F1} ms; RSS idle {idle >> 20} MiB, middle third {middle >> 20} MiB, last third {last >> 20} MiB");
        foreach (var m in r.FailureMessages.Take(5)) Console.Error.WriteLine("failure: " + m);
        if (duration >= TimeSpan.FromMinutes(1))
            Charts.Lines(Charts.PathFor(ctx.Repo, "load"), $"Endpoint memory under {sessions} concurrent sessions", "seconds", "resident MiB",
                samples.Select(s => s.Item1).ToArray(), new[] { ("endpoint RSS", samples.Select(s => s.Item2 / 1048576.0).ToArray()) });
        string md = $"""
            ## Load: {sessions} concurrent sessions for {duration.TotalMinutes:0.#} minutes

            Machine: {BenchReport.Machine()}. {load.Describe()}
            Command: {ctx.Command(BenchArgs.Minutes is double mins ? $" --minutes {mins}" : "")} ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC). A `noir cloud serve` process (bundled model's middle);
            {sessions} sessions, each on its own thread and connection, prefill 32 positions and then send one-token decode steps (fp16),
            rolling back to 32 at 256 positions, for the whole run. Load generator and endpoint share the {Environment.ProcessorCount} cores.

            **Result: {(passed ? "pass" : "FAIL")}.** {r.Steps:N0} decode steps ({r.TokensPerSecond:F0}/s), **{r.Failures} failed requests**;
            step latency p50 {Percentiles.Median(r.StepMs):F1} ms, p95 {Percentiles.Of(r.StepMs, 95):F1} ms, **p99 {Percentiles.Of(r.StepMs, 99):F1} ms**, max {r.StepMs.DefaultIfEmpty(0).Max():F0} ms.
            Endpoint resident memory: {idle / 1048576.0:F0} MiB idle, peak {middle / 1048576.0:F0} MiB in the middle third of the run and {last / 1048576.0:F0} MiB in
            the last third ({(bounded ? "bounded" : "STILL GROWING")}); the endpoint process {(alive ? "was still up" : "HAD EXITED")} at the end.
            {(duration >= TimeSpan.FromMinutes(1) ? "\n![load](benchmarks-load.png)" : "")}
            """;
        BenchReport.Write(ctx.Repo, "load", md, new JsonObject
        {
            ["load_sessions"] = sessions, ["load_minutes"] = Math.Round(duration.TotalMinutes, 2), ["load_steps"] = r.Steps, ["load_failed"] = r.Failures,
            ["load_step_p50_ms"] = Math.Round(Percentiles.Median(r.StepMs), 2), ["load_step_p99_ms"] = Math.Round(Percentiles.Of(r.StepMs, 99), 2),
            ["load_rss_idle_mib"] = idle >> 20, ["load_rss_last_third_mib"] = last >> 20, ["load_memory_bounded"] = bounded,
        });
    }
}
