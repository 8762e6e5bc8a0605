using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using NoirCode.Bench.Infrastructure;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Privacy.Egress;
using NoirCode.Remote;
using static TorchSharp.torch;
using NoirCode.Protocol;

namespace NoirCode.Bench.Suites;

/// <summary>
/// Fairness between tenants (issue 16 item 4): tenant B sends one-token decode steps while tenant A floods the same
/// endpoint with long prefills; B's step latency (p50, p99) with and without the flood, and A's prefill throughput.
/// Run against this build's endpoint and, with --baseline-noir DLL, against another build's (the one-thread FIFO worker
/// before fair scheduling), one after the other in the same run, so the two are compared under the same load.
/// </summary>
public static class FairnessBench
{
    const string AliceKey = "bench-alice-0123456789abcdef", BobKey = "bench-bob-0123456789abcdef00";
    const int Flooders = 4, FloodPrefill = 960, BobPrefill = 32, BobMaxLength = 256, Rounds = 2;

    sealed record Measured(string Name, double[] AloneMs, double[] FloodedMs, long Prefills, long PrefillPositions, double Seconds, long Failures, string? FirstFailure);

    public static void Run(BenchContext ctx)
    {
        var load = new MachineLoad();
        var flood = TimeSpan.FromMinutes(BenchArgs.Minutes ?? (ctx.Quick ? 0.25 : 1));
        var alone = TimeSpan.FromSeconds(ctx.Quick ? 5 : 15);
        var config = ModelConfig.Load(ctx.Model);
        string fingerprint = ModelFingerprint.Of(ctx.ClientShard);
        string auth = Path.Combine(ctx.Work, "auth");
        File.WriteAllText(auth, $"{AliceKey} alice\n{BobKey} bob\n");
        File.SetUnixFileMode(auth, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        // Rate limits off: the flood is the point. The baseline build knows only --rate-limit.
        var common = new[] { "--shard", ctx.CloudShard, "--port", "0", "--auth", auth, "--rate-limit", "1000000" };
        // Builds alternate, round after round, so that other work on a shared machine weighs on both alike.
        var rounds = new List<Measured>();
        for (int round = 1; round <= Rounds; round++)
        {
            if (BenchArgs.BaselineNoir is { } baseline)
                rounds.Add(Measure($"before (FIFO worker), round {round}", baseline, common, config, fingerprint, alone, flood));
            rounds.Add(Measure($"after (fair worker), round {round}", BenchContext.NoirDll, common.Concat(new[] { "--token-rate-limit", "100000000" }).ToArray(), config, fingerprint, alone, flood));
        }
        foreach (var r in rounds)
        {
            Console.Error.WriteLine($"{r.Name}: B alone p50 {Percentiles.Median(r.AloneMs):F1} / p99 {Percentiles.Of(r.AloneMs, 99):F1} ms; " +
                $"flooded p50 {Percentiles.Median(r.FloodedMs):F1} / p99 {Percentiles.Of(r.FloodedMs, 99):F1} ms ({r.FloodedMs.Length} steps); A {r.PrefillPositions / r.Seconds:F0} positions/s, {r.Failures} failures");
            if (r.FirstFailure != null) Console.Error.WriteLine($"  first failure: {r.FirstFailure}");
        }
        if (rounds.Any(r => r.Failures > 0)) BenchArgs.Failed = true;
        var runs = rounds.GroupBy(r => r.Name[..r.Name.IndexOf(',')]).Select(g => new Measured(g.Key + ", all rounds",
            g.SelectMany(r => r.AloneMs).ToArray(), g.SelectMany(r => r.FloodedMs).ToArray(), g.Sum(r => r.Prefills), g.Sum(r => r.PrefillPositions),
            g.Sum(r => r.Seconds), g.Sum(r => r.Failures), g.Select(r => r.FirstFailure).FirstOrDefault(f => f != null))).ToList();

        string Row(Measured r) => $"| {r.Name} | {Percentiles.Median(r.AloneMs):F1} | {Percentiles.Of(r.AloneMs, 99):F1} | {Percentiles.Median(r.FloodedMs):F1} | **{Percentiles.Of(r.FloodedMs, 99):F1}** | {r.FloodedMs.DefaultIfEmpty(0).Max():F0} | {r.FloodedMs.Length:N0} | {r.PrefillPositions / r.Seconds:N0} | {r.Failures} |";
        string ratio = runs.Count == 2
            ? $"\n\nB's p99 decode step under the flood: **{Percentiles.Of(runs[0].FloodedMs, 99) / Percentiles.Of(runs[1].FloodedMs, 99):F1}× lower** after than before; A's prefill throughput after is {runs[1].PrefillPositions / runs[1].Seconds / (runs[0].PrefillPositions / runs[0].Seconds):P0} of before's."
            : "\n\n(No --baseline-noir: only this build was measured.)";
        string md = $"""
            ## Fairness: one tenant's decode steps while another floods prefills

            Machine: {BenchReport.Machine()}. {load.Describe()}
            Command: {ctx.Command($"{(BenchArgs.Minutes is double m ? $" --minutes {m}" : "")}{(BenchArgs.BaselineNoir != null ? " --baseline-noir DLL" : "")}")} ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC).
            A `noir cloud serve` process (bundled model's middle) with two tenants. Tenant B: one session, {BobPrefill}-position prompt, then
            one-token decode steps back to back (fp16), rolling back at {BobMaxLength}; measured alone for {alone.TotalSeconds:F0} s, then for
            {flood.TotalSeconds:F0} s while tenant A runs {Flooders} sessions that each send {FloodPrefill}-position prefills back to back. Each build is
            measured in turn in the same run, alternating over {Rounds} rounds (client and endpoint share the {Environment.ProcessorCount} cores).
            "Before" is the endpoint built from the commit before fair scheduling (one queue: each pass ran every queued prefill
            whole); "after" takes tenants' work in turns and runs prefills 128 positions at a time (`--prefill-chunk`), on one
            intra-op thread for this small model. On a shared machine the absolute figures are noisy: read the ratio of the
            pooled rows, measured alternately. Where B managed few steps, its p99 is close to its maximum.

            | endpoint | B alone p50 ms | B alone p99 ms | B flooded p50 ms | B flooded p99 ms | B flooded max ms | B steps | A prefill positions/s | failed requests |
            | --- | --- | --- | --- | --- | --- | --- | --- | --- |
            {string.Join("\n", rounds.Concat(runs).Select(Row))}{ratio}{(runs.FirstOrDefault(r => r.FirstFailure != null) is { } failed ? $"\n\nFirst failed request ({failed.Name}): {failed.FirstFailure}" : "")}
            """;
        var figures = new JsonObject();
        foreach (var (r, key) in runs.Select(r => (r, r.Name.StartsWith("before") ? "before" : "after")))
        {
            figures[$"fairness_{key}_b_alone_p99_ms"] = Math.Round(Percentiles.Of(r.AloneMs, 99), 2);
            figures[$"fairness_{key}_b_flooded_p50_ms"] = Math.Round(Percentiles.Median(r.FloodedMs), 2);
            figures[$"fairness_{key}_b_flooded_p99_ms"] = Math.Round(Percentiles.Of(r.FloodedMs, 99), 2);
            figures[$"fairness_{key}_a_prefill_positions_per_s"] = Math.Round(r.PrefillPositions / r.Seconds);
        }
        BenchReport.Write(ctx.Repo, "fairness", md, figures);
    }

    static Measured Measure(string name, string noirDll, string[] arguments, ModelConfig config, string fingerprint, TimeSpan alone, TimeSpan flood)
    {
        Console.Error.WriteLine($"fairness: {name} ({noirDll})");
        using var endpoint = EndpointServerProcess.Start(noirDll, arguments);
        int hidden = config.HiddenSize;
        EndpointClientOptions Options(string key) => new() { Endpoints = new[] { endpoint.Address }, ApiKey = key, MaxAttempts = 1, StepTimeout = TimeSpan.FromSeconds(60) };
        using var _ = no_grad();
        using var bob = new RemoteMiddleSession(Options(BobKey), new EgressGuard(hidden, WireDtype.Float16), fingerprint, BobMaxLength, hidden);
        using (var prompt = randn(1, BobPrefill, hidden)) using (var p = arange(BobPrefill)) bob.Forward(prompt, p).Dispose();
        long position = BobPrefill;
        using var token = randn(1, 1, hidden);
        double[] Steps(TimeSpan duration)
        {
            var ms = new List<double>();
            var clock = Stopwatch.StartNew();
            var step = new Stopwatch();
            while (clock.Elapsed < duration)
            {
                if (position >= BobMaxLength) { bob.Truncate(BobPrefill); position = BobPrefill; }
                using var p = tensor(new[] { position }, ScalarType.Int64);
                step.Restart();
                bob.Forward(token, p).Dispose();
                ms.Add(step.Elapsed.TotalMilliseconds);
                position++;
            }
            return ms.ToArray();
        }
        var aloneMs = Steps(alone);

        long prefills = 0, failures = 0;
        var errors = new ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource();
        using var ready = new CountdownEvent(Flooders);
        var flooders = Enumerable.Range(0, Flooders).Select(i => new Thread(() =>
        {
            bool signalled = false;
            try
            {
                using var __ = no_grad();
                using var alice = new RemoteMiddleSession(Options(AliceKey), new EgressGuard(hidden, WireDtype.Float16), fingerprint, config.MaxPositions, hidden);
                using var prompt = randn(1, FloodPrefill, hidden);
                using var positions = arange(FloodPrefill);
                alice.Forward(prompt, positions).Dispose(); // connected and warm before the clock starts
                ready.Signal(); signalled = true;
                while (!stop.IsCancellationRequested)
                {
                    alice.Truncate(0); // each prefill starts the session afresh: the endpoint rolls it back
                    alice.Forward(prompt, positions).Dispose();
                    Interlocked.Increment(ref prefills);
                }
            }
            catch (Exception e)
            {
                Interlocked.Increment(ref failures);
                errors.Enqueue(e.Message);
                if (!signalled) ready.Signal();
            }
        })
        { IsBackground = true, Name = $"fairness-flood-{i}" }).ToList();
        foreach (var t in flooders) t.Start();
        ready.Wait(TimeSpan.FromMinutes(2));
        long before = Interlocked.Read(ref prefills);
        var wall = Stopwatch.StartNew();
        var floodedMs = Steps(flood);
        double seconds = wall.Elapsed.TotalSeconds;
        long done = Interlocked.Read(ref prefills) - before;
        stop.Cancel();
        foreach (var t in flooders) t.Join(TimeSpan.FromMinutes(1));
        return new Measured(name, aloneMs, floodedMs, done, done * FloodPrefill, seconds, failures, errors.TryPeek(out var first) ? first : null);
    }
}
