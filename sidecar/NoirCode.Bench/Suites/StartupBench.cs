using System.Diagnostics;
using System.Text.Json.Nodes;
using NoirCode.Bench.Infrastructure;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Core.Util;
using NoirCode.Privacy.Egress;
using NoirCode.Privacy.Keys;
using NoirCode.Remote;
using NoirCode.Protocol;
using NoirCode.STuning;
using NoirCode.Testing.Lsp;

namespace NoirCode.Bench.Suites;

/// <summary>Model load time (each part, the endpoint process, the sidecar process) and the STuning step time.</summary>
public static class StartupBench
{
    public static void Run(BenchContext ctx)
    {
        var load = new MachineLoad();
        int repeats = ctx.Quick ? 2 : 3;
        double Time(Action a) { var c = Stopwatch.StartNew(); a(); return c.Elapsed.TotalMilliseconds; }
        _ = ctx.ClientShard; // split once, outside the timings
        Time(() => CausalLM.Load(ctx.Model).Dispose()); // JIT and file cache warm
        var loads = new (string Name, string Key, Func<double> Measure)[]
        {
            ("whole model (`CausalLM.Load`, bf16 file → fp32)", "load_ms_whole_model", () => Time(() => CausalLM.Load(ctx.Model).Dispose())),
            ("client shard (`ClientModel.Load`)", "load_ms_client_shard", () => Time(() => ClientModel.Load(ctx.ClientShard).Dispose())),
            ("cloud shard (`CloudShard.Load`)", "load_ms_cloud_shard", () => Time(() => CloudShard.Load(ctx.CloudShard).Dispose())),
            ("`noir cloud serve` process: start → listening", "load_ms_endpoint_process", () => Time(() => EndpointProcess.Start(ctx.CloudShard).Dispose())),
            ("`noir lsp` process: start → model ready (embedded endpoint, split cached)", "load_ms_sidecar_process", () => Time(() =>
            {
                using var lsp = LspProcess.Start();
                lsp.InitializeUntilReadyAsync(new { modelFolder = ctx.Model }).GetAwaiter().GetResult();
                lsp.ShutdownAsync().GetAwaiter().GetResult();
            })),
        };
        var rows = new List<string>();
        var figures = new JsonObject();
        foreach (var (name, key, measure) in loads)
        {
            var times = Enumerable.Range(0, repeats).Select(_ => measure()).ToList();
            rows.Add($"| {name} | {Percentiles.Median(times):F0} | {times.Min():F0} | {times.Max():F0} |");
            figures[key] = Math.Round(Percentiles.Median(times), 1);
            Console.Error.WriteLine($"{name}: {Percentiles.Median(times):F0} ms");
        }

        // STuning: keys for the bundled model, then steps of batch 8 × 256 tokens against a real endpoint.
        int steps = ctx.Quick ? 3 : 6;
        var config = ModelConfig.Load(ctx.ClientShard);
        string fingerprint = ModelFingerprint.Of(ctx.ClientShard);
        var keygen = Stopwatch.StartNew();
        var (keys, _) = PrivacyKeys.Generate(PrivacyKeys.ReadEmbedding(ctx.ClientShard, config).Values, config, fingerprint, 13, "bench");
        double keygenMs = keygen.Elapsed.TotalMilliseconds;
        var client = ClientModel.Load(ctx.ClientShard, untieHead: true);
        keys.ApplyTo(client);
        using var endpoint = EndpointProcess.Start(ctx.CloudShard);
        var options = new EndpointClientOptions { Endpoints = new[] { endpoint.Address } };
        using var remote = new RemoteTrainingSession(options, new EgressGuard(config.HiddenSize, WireDtype.Float32), fingerprint, config.HiddenSize);
        var stepTimes = new StepClock();
        var settings = new TuneSettings(steps, 8, 256, 5e-4, CheckpointMinutes: 1e9);
        new SplitFineTuner(client, keys, remote, Path.Combine(ctx.Work, "tuned")).Run(HeldOutCode.Texts(), settings, stepTimes, ctx.ClientShard);
        var perStep = stepTimes.Steps.Skip(1).ToList(); // the first step pays for JIT and the endpoint's adapter
        double stepMs = Percentiles.Median(perStep);
        figures["stuning_step_ms_batch8_seq256"] = Math.Round(stepMs, 1);
        figures["keygen_ms_bundled_model"] = Math.Round(keygenMs, 1);
        string md = $"""
            ## 5. Model load time and STuning step time

            Machine: {BenchReport.Machine()}. {load.Describe()}
            Command: {ctx.Command()} ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC). Bundled model (16 MB of bf16 weights), median of {repeats} runs after one warm-up
            (files in the page cache). The process figures include starting .NET.

            | what | median ms | min | max |
            | --- | --- | --- | --- |
            {string.Join("\n", rows)}

            STuning (`SplitFineTuner` against a `noir cloud serve` process, fp32 boundary tensors, batch 8 × 256 tokens, keys with
            ε = 13 generated in {keygenMs:F0} ms for 8,192 × 256): **{stepMs:F0} ms per optimiser step** (median of steps 2..{steps}; each step is 8 forward and
            8 backward round trips to the endpoint, the client's 5 blocks and head trained here, the endpoint's LoRA there).
            """;
        BenchReport.Write(ctx.Repo, "startup", md, figures);
    }

    /// <summary>Records when each tuning step finishes.</summary>
    sealed class StepClock : IProgressSink
    {
        readonly Stopwatch _clock = Stopwatch.StartNew();
        double _last;
        public List<double> Steps { get; } = new();
        public void Report(string stage, long done, long total, string? detail = null)
        {
            if (stage != "tuning") return;
            double now = _clock.Elapsed.TotalMilliseconds;
            Steps.Add(now - _last);
            _last = now;
        }
        public void Done(string stage) { }
    }
}
