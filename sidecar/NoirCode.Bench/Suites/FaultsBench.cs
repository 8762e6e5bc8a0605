using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using NoirCode.Bench.Infrastructure;
using NoirCode.Core.Generation;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Privacy.Egress;
using NoirCode.Privacy.Ledger;
using NoirCode.Remote;
using NoirCode.Testing.Lsp;

namespace NoirCode.Bench.Suites;

/// <summary>
/// Faults, timed: kill -9 of the endpoint mid-generation (nothing to fail over to: how long until a clear error,
/// with the library's batch retry budget and the sidecar's interactive one; a second endpoint: how long the
/// interrupted step takes with the replay), and kill -9 of the sidecar mid-request (is the ledger intact?).
/// </summary>
public static class FaultsBench
{
    public static void Run(BenchContext ctx)
    {
        var load = new MachineLoad();
        int repeats = ctx.Quick ? 2 : 3;
        var client = ClientModel.Load(ctx.ClientShard);
        string fingerprint = ModelFingerprint.Of(ctx.ClientShard);
        var prompt = client.Tokenizer.Encode(HeldOutCode.Texts()[0]).Take(200).ToList();
        var batch = new EndpointClientOptions { Endpoints = Array.Empty<Uri>() };
        var interactive = batch.Interactive();

        // Kill with nothing behind it: time from the kill to the exception.
        double KillToError(EndpointClientOptions options, out string message)
        {
            using var endpoint = EndpointProcess.Start(ctx.CloudShard);
            using var session = new SplitSession(client, new RemoteMiddleSession(options with { Endpoints = new[] { endpoint.Address } },
                new EgressGuard(client.Config.HiddenSize), fingerprint, client.Config.MaxPositions, client.Config.HiddenSize));
            var logits = session.Append(prompt);
            for (int t = 0; t < 5; t++) logits = session.Append(new[] { Sampler.ArgMax(logits, client.Tokenizer.IdCount) });
            endpoint.KillHard();
            var clock = Stopwatch.StartNew();
            try { session.Append(new[] { Sampler.ArgMax(logits, client.Tokenizer.IdCount) }); message = "no error"; }
            catch (EndpointUnavailableException e) { message = e.Message; }
            return clock.Elapsed.TotalMilliseconds;
        }
        var batchTimes = new List<double>(); var interactiveTimes = new List<double>();
        string batchMessage = "", interactiveMessage = "";
        for (int i = 0; i < repeats; i++)
        {
            batchTimes.Add(KillToError(batch, out batchMessage));
            interactiveTimes.Add(KillToError(interactive, out interactiveMessage));
        }

        // Kill with a second endpoint listed: the interrupted step reconnects there, replays the history and answers.
        var failover = new List<double>(); var steady = new List<double>();
        bool sameTokens = true;
        for (int i = 0; i < repeats; i++)
        {
            using var a = EndpointProcess.Start(ctx.CloudShard);
            using var b = EndpointProcess.Start(ctx.CloudShard);
            using var reference = new SplitSession(client, new LocalMiddleSession(CloudShard.Load(ctx.CloudShard)));
            using var session = new SplitSession(client, new RemoteMiddleSession(interactive with { Endpoints = new[] { a.Address, b.Address } },
                new EgressGuard(client.Config.HiddenSize), fingerprint, client.Config.MaxPositions, client.Config.HiddenSize));
            var logits = session.Append(prompt); var expected = reference.Append(prompt);
            for (int t = 0; t < 16; t++)
            {
                if (t == 8) a.KillHard();
                var clock = Stopwatch.StartNew();
                logits = session.Append(new[] { Sampler.ArgMax(logits, client.Tokenizer.IdCount) });
                (t == 8 ? failover : steady).Add(clock.Elapsed.TotalMilliseconds);
                expected = reference.Append(new[] { Sampler.ArgMax(expected, client.Tokenizer.IdCount) });
                sameTokens &= Sampler.ArgMax(logits, client.Tokenizer.IdCount) == Sampler.ArgMax(expected, client.Tokenizer.IdCount);
            }
        }

        // kill -9 of the sidecar while it sends: the ledger afterwards.
        var (ledgerIntact, ledgerDetail) = SidecarKill(ctx).GetAwaiter().GetResult();
        if (!ledgerIntact || !sameTokens) BenchArgs.Failed = true;

        string md = $"""
            ## Faults

            Machine: {BenchReport.Machine()}. {load.Describe()}
            Command: {ctx.Command()} ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC), bundled model split {client.Split}, {repeats} repetitions, a 200-token prompt
            and 5 generated tokens before each kill.

            | fault | result |
            | --- | --- |
            | kill -9 of the only endpoint mid-generation, library default retry budget (6 attempts, backoff 0.1 → 2 s) | clear error after {Percentiles.Median(batchTimes):F0} ms (median; max {batchTimes.Max():F0}): "{Short(batchMessage)}" |
            | same, the sidecar's interactive budget (4 attempts, backoff 0.1 → 0.4 s) | **clear error after {Percentiles.Median(interactiveTimes):F0} ms** (median; max {interactiveTimes.Max():F0}; target ≤ 1 s); the language server then shows mode `offline` |
            | kill -9 of the first of two endpoints mid-generation | the interrupted step took {Percentiles.Median(failover):F0} ms (median; steady steps {Percentiles.Median(steady):F1} ms): reconnect to the second, replay of the history, answer; tokens {(sameTokens ? "identical to" : "DIFFERENT from")} an uninterrupted run |
            | kill -9 of `noir lsp` mid-request, then a new one on the same ledger | {ledgerDetail} |
            | corrupt weight and key files | one clear line naming the file, exit 2: tests `CliTests.CorruptWeightsAreNamed`, `ModelLoadErrorTests`, `Faults/CorruptKeyFilesTests` (six kinds of damage) |
            """;
        BenchReport.Write(ctx.Repo, "faults", md, new JsonObject
        {
            ["fault_endpoint_kill_to_error_ms_batch"] = Math.Round(Percentiles.Median(batchTimes)),
            ["fault_endpoint_kill_to_error_ms_interactive"] = Math.Round(Percentiles.Median(interactiveTimes)),
            ["fault_failover_step_ms"] = Math.Round(Percentiles.Median(failover)),
            ["fault_failover_same_tokens"] = sameTokens,
            ["fault_sidecar_kill_ledger_intact"] = ledgerIntact,
        });
    }

    static string Short(string s) => s.Length > 140 ? s[..140] + "…" : s;

    static async Task<(bool Intact, string Detail)> SidecarKill(BenchContext ctx)
    {
        string ledger = Path.Combine(ctx.Work, "kill-ledger"), ws = Directory.CreateDirectory(Path.Combine(ctx.Work, "kill-ws")).FullName;
        var env = new Dictionary<string, string> { ["NOIR_LEDGER_DIR"] = ledger };
        string uri = new Uri(Path.Combine(ws, "a.py")).ToString();
        string text = string.Join("\n\n", HeldOutCode.Texts().Take(2));
        int line = text.Split('\n').Length - 1;
        async Task<long> Complete(LspProcess lsp)
        {
            await lsp.RequestAsync("textDocument/inlineCompletion", new { textDocument = new { uri }, position = new { line, character = 0 }, context = new { triggerKind = 1 } });
            var status = await lsp.WaitForNotificationAsync("noir/privacyStatus", s => s.TryGetProperty("last", out var l) && l.ValueKind == JsonValueKind.Object, TimeSpan.FromSeconds(60));
            return status.GetProperty("last").GetProperty("tokens").GetInt64();
        }
        long reported;
        using (var first = LspProcess.Start(env))
        {
            await first.InitializeUntilReadyAsync(new { modelFolder = ctx.Model }, ws);
            await first.NotifyAsync("textDocument/didOpen", new { textDocument = new { uri, languageId = "python", version = 1, text } });
            reported = await Complete(first);
            await first.NotifyAsync("textDocument/didChange", new { textDocument = new { uri, version = 2 }, contentChanges = new[] { new { text = "import sys\n" + text } } });
            _ = first.RequestAsync("textDocument/inlineCompletion", new { textDocument = new { uri }, position = new { line = line + 1, character = 0 }, context = new { triggerKind = 1 } });
            await Task.Delay(40);
            first.KillHard();
        }
        ExposureCount afterKill;
        try { afterKill = new ExposureLedger(ledger).Sum(_ => true); }
        catch (Exception e) { return (false, "the ledger could not be read after the kill: " + e.Message); }
        using var second = LspProcess.Start(env);
        await second.InitializeUntilReadyAsync(new { modelFolder = ctx.Model }, ws);
        await second.NotifyAsync("textDocument/didOpen", new { textDocument = new { uri, languageId = "python", version = 1, text } });
        long sent = await Complete(second);
        long total = new ExposureLedger(ledger).Sum(_ => true).Tokens;
        await second.ShutdownAsync();
        bool intact = afterKill.Tokens >= reported && total == afterKill.Tokens + sent;
        return (intact, $"ledger {(intact ? "**intact**" : "**NOT intact**")}: {afterKill.Tokens:N0} tokens recorded after the kill (≥ the {reported:N0} reported before it); the new sidecar sent {sent:N0} and the ledger then held {total:N0}");
    }
}
