using System.Text.Json.Nodes;
using NoirCode.Bench.Infrastructure;
using NoirCode.Core.Model;
using NoirCode.Testing.Load;

namespace NoirCode.Bench.Suites;

/// <summary>
/// Endpoint throughput against concurrent sessions (1, 4, 16, 64): aggregate one-token decode steps per second
/// through a real `noir cloud serve` process, whose model worker batches the steps of all sessions; and the
/// endpoint's resident memory per open session.
/// </summary>
public static class ThroughputBench
{
    public static void Run(BenchContext ctx)
    {
        var load = new MachineLoad();
        int[] levels = { 1, 4, 16, 64 };
        var duration = TimeSpan.FromSeconds(ctx.Quick ? 4 : 15);
        const int maxLength = 256;
        var config = ModelConfig.Load(ctx.Model);
        string fingerprint = ModelFingerprint.Of(ctx.ClientShard);
        // All sessions are one tenant here: its request and token rate limits would cap the measurement.
        using var endpoint = EndpointProcess.Start(ctx.CloudShard, 0, "--rate-limit", "1000000", "--token-rate-limit", "100000000");
        SessionLoad.Run(endpoint.Address, fingerprint, config.HiddenSize, 2, TimeSpan.FromSeconds(2), maxLength: maxLength); // warm-up: JIT, thread pool
        Thread.Sleep(1000);
        long baseline = endpoint.ResidentBytes;
        var rows = new List<string>();
        var figures = new JsonObject();
        var perLevel = new List<(int N, LoadResult R, long Peak, WorkerProfile Worker)>();
        foreach (int n in levels)
        {
            long peak = 0;
            using var sampler = new Timer(_ => { try { peak = Math.Max(peak, endpoint.ResidentBytes); } catch (IOException) { } }, null, 0, 100);
            var before = WorkerProfile.Read(endpoint.Address);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var r = SessionLoad.Run(endpoint.Address, fingerprint, config.HiddenSize, n, duration, maxLength: maxLength);
            var worker = WorkerProfile.Read(endpoint.Address).Since(before, clock.Elapsed);
            sampler.Dispose();
            perLevel.Add((n, r, peak, worker));
            Console.Error.WriteLine($"{n} sessions: {r.TokensPerSecond:F0} tok/s, p50 {Percentiles.Median(r.StepMs):F2} ms, p99 {Percentiles.Of(r.StepMs, 99):F2} ms, failures {r.Failures}, peak RSS {peak >> 20} MiB, " +
                $"mean decode batch {worker.MeanBatch:F1}, model worker busy {worker.BusyShare:P0}, {worker.MsPerBatch:F2} ms per batch");
            Thread.Sleep(1000);
        }
        double one = perLevel[0].R.TokensPerSecond;
        foreach (var (n, r, peak, worker) in perLevel)
        {
            rows.Add($"| {n} | {r.TokensPerSecond:F0} | {r.TokensPerSecond / one:F2}× | {r.TokensPerSecond / n:F0} | {Percentiles.Median(r.StepMs):F2} | {Percentiles.Of(r.StepMs, 99):F2} | {r.Failures} | {peak / 1048576.0:F0} | {(peak - baseline) / 1048576.0 / n:F2} | {worker.MeanBatch:F1} | {worker.MsPerBatch:F2} | {worker.BusyShare:P0} |");
            figures[$"throughput_mean_batch_{n}"] = Math.Round(worker.MeanBatch, 2);
            figures[$"throughput_worker_busy_share_{n}"] = Math.Round(worker.BusyShare, 3);
            figures[$"throughput_tok_s_{n}"] = Math.Round(r.TokensPerSecond, 1);
            figures[$"throughput_step_p50_ms_{n}"] = Math.Round(Percentiles.Median(r.StepMs), 2);
            figures[$"throughput_step_p99_ms_{n}"] = Math.Round(Percentiles.Of(r.StepMs, 99), 2);
            figures[$"endpoint_rss_mib_per_session_{n}"] = Math.Round((peak - baseline) / 1048576.0 / n, 3);
        }
        double ratio16 = perLevel.First(l => l.N == 16).R.TokensPerSecond / one;
        figures["throughput_16_over_1"] = Math.Round(ratio16, 2);
        figures["throughput_64_over_1"] = Math.Round(perLevel.First(l => l.N == 64).R.TokensPerSecond / one, 2);
        long kvPerSession = 2L * 4 * maxLength * config.NumKvHeads * config.HeadDim * SplitSpec.Default.MiddleCount(config.NumLayers);
        figures["endpoint_kv_bytes_per_session_256"] = kvPerSession;
        Charts.Lines(Charts.PathFor(ctx.Repo, "throughput"), "Endpoint throughput vs concurrent sessions", "concurrent sessions", "tokens/s (all sessions)",
            levels.Select(l => (double)l).ToArray(), new[] { ("aggregate tokens/s", perLevel.Select(l => l.R.TokensPerSecond).ToArray()), ("one session × N (linear)", levels.Select(l => one * l).ToArray()) });
        string md = $"""
            ## 4. Endpoint throughput vs concurrent sessions

            Machine: {BenchReport.Machine()}. {load.Describe()}
            Command: {ctx.Command()} ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC). One `noir cloud serve` process (bundled model's middle,
            {SplitSpec.Default.MiddleCount(config.NumLayers)} blocks, hidden {config.HiddenSize}, decode batches of up to 64). N sessions, each on its own thread and
            HTTP/2 connection, prefill 32 positions and then send one-token decode steps (fp16, random hidden states: the client's own
            model is not in the loop) for {duration.TotalSeconds:F0} s, rolling back at {maxLength} positions. The tenant's request-rate limit is lifted (all sessions share one tenant). The load generator shares the 2 cores with
            the endpoint. Memory: the endpoint's peak resident set during the run minus its idle resident set, per session
            (the KV reservation for {maxLength} positions is {kvPerSession / 1024.0:F0} KiB per session, fp32 keys and values).

            | sessions | tokens/s (all) | vs 1 session | tokens/s per session | step p50 ms | step p99 ms | failed | endpoint RSS MiB | RSS per session MiB | mean decode batch | ms per batch | model worker busy |
            | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
            {string.Join("\n", rows)}

            **Aggregate at 16 sessions: {ratio16:F2}× one session** (target ≥ 4×). Idle endpoint RSS {baseline / 1048576.0:F0} MiB.
            The last three columns come from the endpoint's own `/metrics` (`noir_decode_rows_total`, `noir_decode_batches_total`,
            `noir_model_busy_seconds_total`): how many sessions' steps one pass of the model worker served, what a pass cost, and the share
            of the run the worker was computing rather than waiting for requests.

            ![throughput](benchmarks-throughput.png)
            """;
        BenchReport.Write(ctx.Repo, "throughput", md, figures);
    }
}

/// <summary>The endpoint's model worker, from its /metrics counters: batches, rows and busy time.</summary>
sealed record WorkerProfile(double Batches, double Rows, double BusySeconds, TimeSpan Window = default)
{
    public double MeanBatch => Batches == 0 ? 0 : Rows / Batches;
    public double MsPerBatch => Batches == 0 ? 0 : BusySeconds * 1000 / Batches;
    public double BusyShare => Window.TotalSeconds == 0 ? 0 : BusySeconds / Window.TotalSeconds;

    public WorkerProfile Since(WorkerProfile before, TimeSpan window) =>
        new(Batches - before.Batches, Rows - before.Rows, BusySeconds - before.BusySeconds, window);

    public static WorkerProfile Read(Uri endpoint)
    {
        using var http = new HttpClient { DefaultRequestVersion = System.Net.HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        var text = http.GetStringAsync(new Uri(endpoint, "/metrics")).GetAwaiter().GetResult();
        double Value(string name) => text.Split('\n').Where(l => l.StartsWith(name + " ", StringComparison.Ordinal))
            .Select(l => double.Parse(l[(name.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault();
        return new(Value("noir_decode_batches_total"), Value("noir_decode_rows_total"), Value("noir_model_busy_seconds_total"));
    }
}
