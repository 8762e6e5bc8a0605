using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using NoirCode.Bench.Infrastructure;
using NoirCode.Core.Tokenization;
using NoirCode.Testing.Lsp;
using NoirCode.Core.Split;

namespace NoirCode.Bench.Suites;

/// <summary>
/// Warm time to a suggestion with the endpoint at a distance, with and without speculative decoding: two real
/// `noir lsp` processes (speculativeDecoding on and off) on the bundled model's client shard, both talking to one
/// `noir cloud serve` process through a TCP relay that injects 0, 20, 50 and 100 ms of round-trip time. 1k-token
/// documents of held-out code; the user types the rest of a line, and at each keystroke every RTT and both sidecars
/// are asked (explicit requests: no debounce, no cache). Part of `scripts/bench ttfs`; `scripts/bench ttfs-rtt` runs it alone.
/// </summary>
public static class TimeToSuggestionAtDistanceBench
{
    static readonly int[] RoundTrips = { 0, 20, 50, 100 };

    public static void Run(BenchContext ctx)
    {
        var load = new MachineLoad();
        int documents = ctx.Quick ? 2 : 4, keystrokes = ctx.Quick ? 4 : 8, size = 1000;
        var tokenizer = CodeTokenizer.Load(ctx.Model);
        var corpus = tokenizer.Encode(string.Join("\n\n", HeldOutCode.Texts())).ToArray();
        string workspace = Directory.CreateDirectory(Path.Combine(ctx.Work, "workspace-rtt")).FullName;
        using var endpoint = EndpointProcess.Start(ctx.CloudShard);
        using var relay = new LatencyProxy(endpoint.Address, TimeSpan.Zero);
        var modes = new[] { (Name: "plain", Speculative: false), (Name: "speculative", Speculative: true) };
        var sidecars = modes.Select(m => LspProcess.Start()).ToArray();
        try
        {
            for (int m = 0; m < modes.Length; m++)
                sidecars[m].InitializeUntilReadyAsync(new { modelFolder = ctx.ClientShard, endpoint = relay.Address.ToString(), speculativeDecoding = modes[m].Speculative }, workspace)
                    .GetAwaiter().GetResult();
            var ms = new Dictionary<(int Rtt, int Mode), List<double>>();
            var sent = new Dictionary<(int, int), List<double>>();
            var chars = new Dictionary<(int, int), List<double>>();
            var wholeLine = new Dictionary<(int, int), List<double>>(); // 1 when a suggestion's line was not cut by the deadline
            foreach (int r in RoundTrips) for (int m = 0; m < modes.Length; m++) { ms[(r, m)] = new(); sent[(r, m)] = new(); chars[(r, m)] = new(); wholeLine[(r, m)] = new(); }
            var random = new Random(11);
            for (int d = -1; d < documents; d++) // document -1 warms up (JIT, connections) and is not counted
            {
                var doc = TypingDocument.Cut(tokenizer, corpus, random.Next(0, corpus.Length - size - 1), size, keystrokes);
                string uri = new Uri(Path.Combine(workspace, $"rtt{d + 1}.py")).ToString();
                foreach (var lsp in sidecars)
                {
                    lsp.NotifyAsync("textDocument/didOpen", new { textDocument = new { uri, languageId = "python", version = 1, text = doc.Text } }).GetAwaiter().GetResult();
                    relay.RoundTrip = TimeSpan.Zero;
                    Request(lsp, uri, doc.Line, doc.Column); // cold: not counted
                }
                for (int k = 0; k < keystrokes; k++)
                {
                    var at = new { line = doc.Line, character = doc.Column + k };
                    foreach (var lsp in sidecars)
                        lsp.NotifyAsync("textDocument/didChange", new
                        {
                            textDocument = new { uri, version = k + 2 },
                            contentChanges = new[] { new { range = new { start = at, end = at }, text = doc.Typed[k].ToString() } },
                        }).GetAwaiter().GetResult();
                    // Rotate the order so that no RTT or mode is always the first to see the keystroke.
                    for (int i = 0; i < RoundTrips.Length * modes.Length; i++)
                    {
                        int slot = (i + k) % (RoundTrips.Length * modes.Length), rtt = RoundTrips[slot / modes.Length], m = slot % modes.Length;
                        relay.RoundTrip = TimeSpan.FromMilliseconds(rtt);
                        long cutBefore = CutMidLine(sidecars[m]);
                        var (elapsed, tokens, text) = Request(sidecars[m], uri, doc.Line, doc.Column + k + 1);
                        bool cut = CutMidLine(sidecars[m]) > cutBefore;
                        if (d < 0) continue;
                        ms[(rtt, m)].Add(elapsed); sent[(rtt, m)].Add(tokens); chars[(rtt, m)].Add(text.Length);
                        if (text.Length > 0) wholeLine[(rtt, m)].Add(cut ? 0 : 1);
                    }
                }
                foreach (var lsp in sidecars) lsp.NotifyAsync("textDocument/didClose", new { textDocument = new { uri } }).GetAwaiter().GetResult();
                if (d >= 0)
                    Console.Error.WriteLine($"document {d + 1}/{documents}: +50 ms RTT warm p50 plain {Percentiles.Median(ms[(50, 0)]):F0} ms, speculative {Percentiles.Median(ms[(50, 1)]):F0} ms");
            }
            foreach (var lsp in sidecars) lsp.ShutdownAsync().GetAwaiter().GetResult();

            var rows = RoundTrips.SelectMany(r => modes.Select((mode, m) =>
                $"| {(r == 0 ? "relay, +0 ms" : $"+{r} ms")} | {mode.Name} | {Percentiles.Median(ms[(r, m)]):F0} | {Percentiles.Of(ms[(r, m)], 95):F0} | {chars[(r, m)].Average():F0} | {Share(wholeLine[(r, m)]):P0} | {sent[(r, m)].Average():F1} |"));
            double p50 = Percentiles.Median(ms[(50, 1)]), p95 = Percentiles.Of(ms[(50, 1)], 95);
            var defaults = new NoirCode.Sidecar.Completion.CompletionSettings();
            string md = $"""
                ## 2b. Time to a suggestion at cloud distance, with speculative decoding

                Machine: {BenchReport.Machine()}. {load.Describe()}
                Command: {ctx.Command()} ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC). Two real `noir lsp` processes, `speculativeDecoding` off
                (plain: one token per round trip) and on (the default), on the bundled model's client shard (split {Core.Split.SplitSpec.Default},
                no keys, fp16), both using one `noir cloud serve` process through a TCP relay that delays each chunk by RTT/2 each
                way. {documents} documents of {size:N0} tokens of held-out code; at each of {keystrokes} keystrokes typing the rest of a line,
                every RTT and both sidecars are asked (explicit requests, no debounce or cache, order rotated per keystroke). The
                suggestion policy is the default, its deadlines counted from the request (not per token): the first line only once
                {defaults.NewlineCutoff.TotalMilliseconds:F0} ms have passed, and no round trip started that would end after {defaults.ShowBy.TotalMilliseconds:F0} ms
                (predicted from the last step), so a far endpoint spends its trips finishing the line. Characters shown are after
                post-processing; "whole lines" is the share of suggestions the deadline did not cut mid-line (the sidecar's own
                count, `noir/completionStats`). Tokens sent: new prompt tokens plus every decoded position, rejected drafts included.

                | RTT | decoding | warm p50 ms | warm p95 ms | characters shown (mean) | whole lines | tokens sent (mean) |
                | --- | --- | --- | --- | --- | --- | --- |
                {string.Join("\n", rows)}

                **Warm suggestion at +50 ms RTT, speculative: p50 {p50:F0} ms, p95 {p95:F0} ms, {Share(wholeLine[(50, 1)]):P0} of them whole
                lines** (targets ≤ 400 ms and ≤ 700 ms for a whole line; plain: p50 {Percentiles.Median(ms[(50, 0)]):F0} ms, p95
                {Percentiles.Of(ms[(50, 0)], 95):F0} ms, {Share(wholeLine[(50, 0)]):P0} whole lines).
                """;
            BenchReport.Write(ctx.Repo, "ttfs-rtt", md, new JsonObject
            {
                ["ttfs_warm_1k_p50_ms_rtt50"] = Math.Round(p50, 1),
                ["ttfs_warm_1k_p95_ms_rtt50"] = Math.Round(p95, 1),
                ["ttfs_warm_1k_p50_ms_rtt50_plain"] = Math.Round(Percentiles.Median(ms[(50, 0)]), 1),
                ["ttfs_warm_1k_p95_ms_rtt50_plain"] = Math.Round(Percentiles.Of(ms[(50, 0)], 95), 1),
                ["ttfs_chars_rtt50"] = Math.Round(chars[(50, 1)].Average(), 1),
                ["ttfs_chars_rtt50_plain"] = Math.Round(chars[(50, 0)].Average(), 1),
                ["ttfs_whole_line_share_rtt50"] = Math.Round(Share(wholeLine[(50, 1)]), 3),
                ["ttfs_whole_line_share_rtt50_plain"] = Math.Round(Share(wholeLine[(50, 0)]), 3),
            });
        }
        finally { foreach (var lsp in sidecars) lsp.Dispose(); }
    }

    static double Share(List<double> flags) => flags.Count == 0 ? double.NaN : flags.Average();

    static long CutMidLine(LspProcess lsp) =>
        lsp.RequestAsync("noir/completionStats", null).GetAwaiter().GetResult().GetProperty("result").GetProperty("cutMidLine").GetInt64();

    /// <returns>milliseconds from request to response, the tokens the request sent, and the suggestion (never printed)</returns>
    static (double Ms, double Sent, string Text) Request(LspProcess lsp, string uri, int line, int character)
    {
        var clock = Stopwatch.StartNew();
        var response = lsp.RequestAsync("textDocument/inlineCompletion", new
        {
            textDocument = new { uri }, position = new { line, character }, context = new { triggerKind = 1 },
        }).GetAwaiter().GetResult();
        double ms = clock.Elapsed.TotalMilliseconds;
        if (response.TryGetProperty("error", out var error)) throw new IOException("inline completion failed: " + error);
        double sent = double.NaN;
        while (lsp.Notifications.Reader.TryRead(out var n))
            if (n.TryGetProperty("params", out var p) && p.TryGetProperty("last", out var last) && last.ValueKind == JsonValueKind.Object)
                sent = last.GetProperty("tokens").GetDouble();
        var items = response.GetProperty("result").GetProperty("items");
        return (ms, sent, items.GetArrayLength() > 0 ? items[0].GetProperty("insertText").GetString()! : "");
    }
}
