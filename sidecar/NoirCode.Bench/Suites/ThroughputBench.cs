using System.Text.Json.Nodes;
using NoirCode.Bench.Infrastructure;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Testing.Load;
using NoirCode.Remote;

namespace NoirCode.Bench.Suites;

/// <summary>
/// Endpoint throughput against concurrent sessions (1, 4, 16, 64): aggregate one-token decode steps per second
/// through a real `noir cloud serve` process, whose model worker batches the steps of all sessions; and the
/// endpoint's resident memory per open session; with --baseline-noir DLL, another build's endpoint beside it, as before;
/// and what one pass of the model worker costs against the rows in its batch (<see cref="ThroughputBatchCost"/>).
/// </summary>
public static class ThroughputBench
{
    sealed record Level(string Build, int N, LoadResult R, long Peak, long Baseline, WorkerProfile Worker);

    public static void Run(BenchContext ctx)
    {
        var load = new MachineLoad();
        int[] levels = { 1, 4, 16, 64 };
        var duration = TimeSpan.FromSeconds(ctx.Quick ? 4 : 15);
        const int maxLength = 256;
        var config = ModelConfig.Load(ctx.Model);
        string fingerprint = ModelFingerprint.Of(ctx.ClientShard);
        // With --baseline-noir, another build's endpoint ("before") runs too; the two take turns level by level, so
        // that other work on a shared machine weighs on both alike.
        var builds = new List<(string Name, string Dll)>();
        if (BenchArgs.BaselineNoir is { } baselineDll) builds.Add(("before", baselineDll));
        builds.Add((builds.Count > 0 ? "after" : "this build", BenchContext.NoirDll));
        // All sessions are one tenant here: its request and token rate limits would cap the measurement.
        var endpoints = builds.Select(b => EndpointServerProcess.Start(b.Dll, new[] { "--shard", ctx.CloudShard, "--port", "0", "--rate-limit", "1000000", "--token-rate-limit", "100000000" })).ToList();
        var perLevel = new List<Level>();
        try
        {
            var baselines = new long[builds.Count];
            for (int b = 0; b < builds.Count; b++)
            {
                SessionLoad.Run(endpoints[b].Address, fingerprint, config.HiddenSize, 2, TimeSpan.FromSeconds(2), maxLength: maxLength); // warm-up: JIT, thread pool
                Thread.Sleep(1000);
                baselines[b] = ProcessMemory.ResidentBytes(endpoints[b].Pid);
            }
            foreach (int n in levels)
                for (int i = 0; i < builds.Count; i++)
                {
                    int b = (i + Array.IndexOf(levels, n)) % builds.Count; // the first to run alternates
                    var endpoint = endpoints[b];
                    long peak = 0;
                    using var sampler = new Timer(_ => { try { peak = Math.Max(peak, ProcessMemory.ResidentBytes(endpoint.Pid)); } catch (IOException) { } }, null, 0, 100);
                    var before = WorkerProfile.Read(endpoint.Address);
                    var clock = System.Diagnostics.Stopwatch.StartNew();
                    var r = SessionLoad.Run(endpoint.Address, fingerprint, config.HiddenSize, n, duration, maxLength: maxLength);
                    var worker = WorkerProfile.Read(endpoint.Address).Since(before, clock.Elapsed);
                    sampler.Dispose();
                    perLevel.Add(new Level(builds[b].Name, n, r, peak, baselines[b], worker));
                    Console.Error.WriteLine($"{builds[b].Name}, {n} sessions: {r.TokensPerSecond:F0} tok/s, p50 {Percentiles.Median(r.StepMs):F2} ms, p99 {Percentiles.Of(r.StepMs, 99):F2} ms, failures {r.Failures}, peak RSS {peak >> 20} MiB, " +
                        $"mean decode batch {worker.MeanBatch:F1}, model worker busy {worker.BusyShare:P0}, {worker.MsPerBatch:F2} ms per batch");
                    Thread.Sleep(1000);
                }
        }
        finally { foreach (var e in endpoints) e.Dispose(); }
        var loadAfterRuns = MachineLoad.Current();

        // The model's own work per pass against the rows in it, for each way a batch attends (in this process).
        var cost = ThroughputBatchCost.Measure(ctx, TimeSpan.FromSeconds(ctx.Quick ? 1 : 3));

        var figures = new JsonObject();
        var tables = new List<string>();
        foreach (var (name, _) in builds)
        {
            var runs = perLevel.Where(l => l.Build == name).OrderBy(l => l.N).ToList();
            double one = runs[0].R.TokensPerSecond;
            var rows = new List<string>();
            string prefix = name == "before" ? "throughput_before_" : "throughput_";
            foreach (var (_, n, r, peak, baseline, worker) in runs)
            {
                rows.Add($"| {name} | {n} | {r.TokensPerSecond:F0} | {r.TokensPerSecond / one:F2}× | {r.TokensPerSecond / n:F0} | {Percentiles.Median(r.StepMs):F2} | {Percentiles.Of(r.StepMs, 99):F2} | {r.Failures} | {peak / 1048576.0:F0} | {(peak - baseline) / 1048576.0 / n:F2} | {worker.MeanBatch:F1} | {worker.MsPerBatch:F2} | {worker.BusyShare:P0} |");
                figures[$"{prefix}tok_s_{n}"] = Math.Round(r.TokensPerSecond, 1);
                if (name == "before") continue;
                figures[$"throughput_mean_batch_{n}"] = Math.Round(worker.MeanBatch, 2);
                figures[$"throughput_worker_busy_share_{n}"] = Math.Round(worker.BusyShare, 3);
                figures[$"throughput_ms_per_batch_{n}"] = Math.Round(worker.MsPerBatch, 3);
                figures[$"throughput_step_p50_ms_{n}"] = Math.Round(Percentiles.Median(r.StepMs), 2);
                figures[$"throughput_step_p99_ms_{n}"] = Math.Round(Percentiles.Of(r.StepMs, 99), 2);
                figures[$"endpoint_rss_mib_per_session_{n}"] = Math.Round((peak - baseline) / 1048576.0 / n, 3);
            }
            figures[$"{prefix}16_over_1"] = Math.Round(runs.First(l => l.N == 16).R.TokensPerSecond / one, 2);
            figures[$"{prefix}64_over_1"] = Math.Round(runs.First(l => l.N == 64).R.TokensPerSecond / one, 2);
            tables.AddRange(rows);
        }
        var after = perLevel.Where(l => l.Build != "before").OrderBy(l => l.N).ToList();
        double ratio16 = after.First(l => l.N == 16).R.TokensPerSecond / after[0].R.TokensPerSecond;
        long kvPerSession = 2L * 4 * maxLength * config.NumKvHeads * config.HeadDim * SplitSpec.Default.MiddleCount(config.NumLayers);
        figures["endpoint_kv_bytes_per_session_256"] = kvPerSession;
        string costTable = ThroughputBatchCost.Table(cost, figures);
        var series = builds.Select(b => ($"{b.Name}: aggregate tokens/s", perLevel.Where(l => l.Build == b.Name).OrderBy(l => l.N).Select(l => l.R.TokensPerSecond).ToArray())).ToList();
        series.Add(("one session × N (linear)", levels.Select(l => after[0].R.TokensPerSecond * l).ToArray()));
        Charts.Lines(Charts.PathFor(ctx.Repo, "throughput"), "Endpoint throughput vs concurrent sessions", "concurrent sessions", "tokens/s (all sessions)",
            levels.Select(l => (double)l).ToArray(), series.ToArray());
        string versus = builds.Count == 1 ? "" : $"""
             Before: the build given as `--baseline-noir` (attention one row at a time over each session's own cache, as
            before the pooled cache: {figures["throughput_before_16_over_1"]}× at 16 sessions); the two endpoints ran side by side and took turns, level by level.
            """;
        string md = $"""
            ## 4. Endpoint throughput vs concurrent sessions

            Machine: {BenchReport.Machine()}. {load.Describe()} (Load average after the endpoint runs, before the batch-cost runs: {loadAfterRuns:F2}.)
            Command: {ctx.Command(builds.Count > 1 ? " --baseline-noir DLL" : "")} ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC). One `noir cloud serve` process per build (bundled model's middle,
            {SplitSpec.Default.MiddleCount(config.NumLayers)} blocks, hidden {config.HiddenSize}, decode batches of up to 64). N sessions, each on its own thread and
            HTTP/2 connection, prefill 32 positions and then send one-token decode steps (fp16, random hidden states: the client's own
            model is not in the loop) for {duration.TotalSeconds:F0} s, rolling back at {maxLength} positions. The tenant's request-rate limit is lifted (all sessions share one tenant). The load generator shares the 2 cores with
            the endpoint. Memory: the endpoint's peak resident set during the run minus its idle resident set, per session
            (the KV reservation for {maxLength} positions is {kvPerSession / 1024.0:F0} KiB per session, fp32 keys and values).{versus}

            | build | sessions | tokens/s (all) | vs 1 session | tokens/s per session | step p50 ms | step p99 ms | failed | endpoint RSS MiB | RSS per session MiB | mean decode batch | ms per batch | model worker busy |
            | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
            {string.Join("\n", tables)}

            **Aggregate at 16 sessions: {ratio16:F2}× one session** (target ≥ 6×, issue 17).
            The last three columns come from the endpoint's own `/metrics` (`noir_decode_rows_total`, `noir_decode_batches_total`,
            `noir_model_busy_seconds_total`): how many sessions' steps one pass of the model worker served, what a pass cost (its
            decode batch and any job slice, at the CPU share the worker got next to the load generator and gRPC), and the share
            of the run the worker was computing rather than waiting for requests.

            **The model's work per pass against the rows in it**, in the benchmark's own process (no gRPC, no load generator; one
            intra-op thread, as the worker runs this model): the middle's decode step over sessions in one `KvPool` at lengths
            spread over 32–255, for each way a batch can attend (`DecodeAttention`; the endpoint uses `{new KvPool(config, 1).Attention}`). Gather:
            the batch's slots copied into one padded tensor, one masked attention call. Slot range: one masked call over the
            slots that hold the batch, in place. Per row: one call per session over its own slot, as before the pool but
            with fewer operations per row. Auto: slot range when the batch fills at least 4/5 of its slot range, else per row
            (the projections, norms and MLP run batched in all). "Open sessions" twice the rows: the batch is every other
            slot, as when half the sessions have a step queued (at 16 sessions the endpoint's batches average about 8 rows).

            {costTable}

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
