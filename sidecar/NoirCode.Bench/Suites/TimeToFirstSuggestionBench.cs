using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using NoirCode.Bench.Infrastructure;
using NoirCode.Core.Tokenization;
using NoirCode.Testing.Lsp;

namespace NoirCode.Bench.Suites;

/// <summary>
/// Time to first suggestion through the real sidecar: `noir lsp` as a child process with the embedded default
/// (its own `noir cloud serve` on loopback, the bundled model), driven over stdio. Request sent → response read,
/// for documents of 200, 1k and 2k tokens. Cold: a document the session has not seen. Warm: the user types the
/// next character of the line and asks again, so the session's KV cache (client and endpoint) is reused.
/// Requests are explicit (trigger kind Invoked): no debounce wait and no cache, so every one runs the model.
/// </summary>
public static class TimeToFirstSuggestionBench
{
    public static void Run(BenchContext ctx)
    {
        var load = new MachineLoad();
        int documents = ctx.Quick ? 3 : 6, keystrokes = ctx.Quick ? 5 : 8;
        int[] sizes = { 200, 1000, 2000 };
        var tokenizer = CodeTokenizer.Load(ctx.Model);
        var corpus = tokenizer.Encode(string.Join("\n\n", HeldOutCode.Texts())).ToArray();
        string workspace = Directory.CreateDirectory(Path.Combine(ctx.Work, "workspace")).FullName;

        using var lsp = LspProcess.Start();
        var clock = Stopwatch.StartNew();
        // It measures latency, not the budget: the demo keys' measured budget (a few thousand tokens) would block the
        // run part-way and every later request would be an instant empty answer.
        lsp.InitializeUntilReadyAsync(new { modelFolder = ctx.Model, exposureBudgetTokens = 1_000_000_000_000L }, workspace).GetAwaiter().GetResult();
        double readyMs = clock.Elapsed.TotalMilliseconds;
        Console.Error.WriteLine($"sidecar ready in {readyMs:F0} ms");

        var results = new Dictionary<int, (List<double> Cold, List<double> Warm, List<double> WarmSent, List<double> ColdSent)>();
        var warmEngineMs = new Dictionary<int, List<double>>();
        var warmChars = new Dictionary<int, List<double>>();
        var random = new Random(7);
        int docNumber = 0;
        // Warm-up: one document of each size, not counted (JIT, first connections).
        foreach (int size in new[] { -1 }.Concat(sizes))
        {
            bool warmUp = size < 0;
            int n = warmUp ? 1 : documents, tokens = warmUp ? 300 : size;
            var r = (Cold: new List<double>(), Warm: new List<double>(), WarmSent: new List<double>(), ColdSent: new List<double>());
            var engine = new List<double>(); var chars = new List<double>();
            for (int d = 0; d < n; d++)
            {
                var doc = TypingDocument.Cut(tokenizer, corpus, random.Next(0, corpus.Length - tokens - 1), tokens, keystrokes);
                string uri = new Uri(Path.Combine(workspace, $"doc{docNumber++}.py")).ToString();
                lsp.NotifyAsync("textDocument/didOpen", new { textDocument = new { uri, languageId = "python", version = 1, text = doc.Text } }).GetAwaiter().GetResult();
                var (ms, sent, _, _) = Request(lsp, uri, doc.Line, doc.Column);
                r.Cold.Add(ms); r.ColdSent.Add(sent);
                for (int k = 0; k < keystrokes; k++)
                {
                    var at = new { line = doc.Line, character = doc.Column + k };
                    lsp.NotifyAsync("textDocument/didChange", new
                    {
                        textDocument = new { uri, version = k + 2 },
                        contentChanges = new[] { new { range = new { start = at, end = at }, text = doc.Typed[k].ToString() } },
                    }).GetAwaiter().GetResult();
                    (ms, sent, double engineMs, int shown) = Request(lsp, uri, doc.Line, doc.Column + k + 1);
                    r.Warm.Add(ms); r.WarmSent.Add(sent); engine.Add(engineMs); chars.Add(shown);
                }
                lsp.NotifyAsync("textDocument/didClose", new { textDocument = new { uri } }).GetAwaiter().GetResult();
                Console.Error.WriteLine($"{(warmUp ? "warm-up" : $"{size} tokens")}, document {d + 1}/{n}: cold {r.Cold[^1]:F0} ms, warm p50 so far {Percentiles.Median(r.Warm):F0} ms");
            }
            if (!warmUp) { results[size] = r; warmEngineMs[size] = engine; warmChars[size] = chars; }
        }
        lsp.ShutdownAsync().GetAwaiter().GetResult();

        var rows = sizes.Select(s =>
        {
            var r = results[s];
            return $"| {s:N0} | {Percentiles.Median(r.Cold):F0} | {Percentiles.Of(r.Cold, 95):F0} | {r.ColdSent.Average():F0} | {Percentiles.Median(r.Warm):F0} | {Percentiles.Of(r.Warm, 95):F0} | {r.WarmSent.Average():F1} |";
        });
        var figures = new JsonObject { ["ttfs_sidecar_ready_ms"] = Math.Round(readyMs) };
        foreach (int s in sizes)
        {
            string k = s >= 1000 ? $"{s / 1000}k" : s.ToString();
            figures[$"ttfs_cold_{k}_p50_ms"] = Math.Round(Percentiles.Median(results[s].Cold), 1);
            figures[$"ttfs_cold_{k}_p95_ms"] = Math.Round(Percentiles.Of(results[s].Cold, 95), 1);
            figures[$"ttfs_warm_{k}_p50_ms"] = Math.Round(Percentiles.Median(results[s].Warm), 1);
            figures[$"ttfs_warm_{k}_p95_ms"] = Math.Round(Percentiles.Of(results[s].Warm, 95), 1);
        }
        Charts.GroupedBars(Charts.PathFor(ctx.Repo, "ttfs"), "Time to first suggestion through noir lsp", "ms",
            sizes.Select(s => $"{s:N0} tokens").ToArray(), new[] { "cold p50", "cold p95", "warm p50", "warm p95" },
            new[]
            {
                sizes.Select(s => Percentiles.Median(results[s].Cold)).ToArray(), sizes.Select(s => Percentiles.Of(results[s].Cold, 95)).ToArray(),
                sizes.Select(s => Percentiles.Median(results[s].Warm)).ToArray(), sizes.Select(s => Percentiles.Of(results[s].Warm, 95)).ToArray(),
            });
        double p50 = Percentiles.Median(results[1000].Warm), p95 = Percentiles.Of(results[1000].Warm, 95);
        var defaults = new NoirCode.Sidecar.Completion.CompletionSettings();
        string md = $"""
            ## 2. Time to first suggestion through the sidecar

            Machine: {BenchReport.Machine()}. {load.Describe()}
            Command: {ctx.Command()} ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC). The real `noir lsp` process with the embedded default
            (bundled model, split {Core.Split.SplitSpec.Default}, its `noir cloud serve` child on loopback, fp16), driven over stdio:
            `textDocument/inlineCompletion` sent → response read. Documents are windows of held-out stdlib code; the cursor sits
            after the indentation of a line near the end whose rest is then typed. Cold: a document the session has not
            seen ({documents} per size). Warm: type the next character, ask again ({keystrokes} keystrokes per document). Requests are
            explicit (trigger kind Invoked), so no debounce wait and no cache: every request runs the model (up to
            {defaults.MaxNewTokens} new tokens; the first line only if the block is not done {defaults.NewlineCutoff.TotalMilliseconds:F0} ms after the request; no step started that would end after {defaults.ShowBy.TotalMilliseconds:F0} ms). The prompt budget is 768 tokens (the model's context is
            1,024), so 1k and 2k documents are cut to a window around the cursor. The sidecar was ready {readyMs / 1000:F1} s after start.

            | document tokens | cold p50 ms | cold p95 ms | tokens sent cold | warm p50 ms | warm p95 ms | tokens sent warm (mean) |
            | --- | --- | --- | --- | --- | --- | --- |
            {string.Join("\n", rows)}

            **Warm at 1k tokens: p50 {p50:F0} ms, p95 {p95:F0} ms** (targets ≤ 300 ms and ≤ 500 ms).

            Where the warm time goes (1k tokens): the completion engine itself accounts for {Percentiles.Median(warmEngineMs[1000]):F0} ms (median, from the
            status notification), the rest ({p50 - Percentiles.Median(warmEngineMs[1000]):F0} ms) is the LSP round trip over stdio. A warm request sends only
            the tokens the keystroke changed plus one per generated token ({results[1000].WarmSent.Average():F0} on average), so nearly all of the engine's
            time is decoding: one split step (client blocks, a gRPC round trip to the endpoint, client blocks and head) per generated
            token, until the suggestion ends (end token, {defaults.MaxNewTokens} tokens, the first newline after {defaults.NewlineCutoff.TotalMilliseconds:F0} ms, or the {defaults.ShowBy.TotalMilliseconds:F0} ms deadline). Suggestions averaged
            {warmChars[1000].Average():F0} characters. The prefill is not the cost: only its new tokens travel.

            ![time to first suggestion](benchmarks-ttfs.png)
            """;
        BenchReport.Write(ctx.Repo, "ttfs", md, figures);
        TimeToSuggestionAtDistanceBench.Run(ctx);
    }

    /// <returns>milliseconds from request to response, the tokens the request sent to the endpoint (new prompt tokens
    /// and one per generated token), the engine's own milliseconds, and the characters of the suggestion</returns>
    static (double Ms, double Sent, double EngineMs, int Chars) Request(LspProcess lsp, string uri, int line, int character)
    {
        var clock = Stopwatch.StartNew();
        var response = lsp.RequestAsync("textDocument/inlineCompletion", new
        {
            textDocument = new { uri }, position = new { line, character }, context = new { triggerKind = 1 },
        }).GetAwaiter().GetResult();
        double ms = clock.Elapsed.TotalMilliseconds;
        if (response.TryGetProperty("error", out var error)) throw new IOException("inline completion failed: " + error);
        // The status notification for this request went out before the response.
        double sent = double.NaN, engineMs = double.NaN;
        while (lsp.Notifications.Reader.TryRead(out var n))
            if (n.TryGetProperty("params", out var p) && p.TryGetProperty("last", out var last) && last.ValueKind == JsonValueKind.Object)
                (sent, engineMs) = (last.GetProperty("tokens").GetDouble(), last.GetProperty("milliseconds").GetDouble());
        var items = response.GetProperty("result").GetProperty("items");
        int chars = items.GetArrayLength() > 0 ? items[0].GetProperty("insertText").GetString()!.Length : 0;
        return (ms, sent, engineMs, chars);
    }
}

/// <summary>A document cut from held-out code with the rest of one line left to type.</summary>
public sealed record TypingDocument(string Text, int Line, int Column, string Typed)
{
    public static TypingDocument Cut(CodeTokenizer tokenizer, int[] corpus, int offset, int tokens, int keystrokes)
    {
        string text = tokenizer.Decode(corpus.Skip(offset).Take(tokens));
        var lines = text.Split('\n');
        // A line near the end (about 85% of the way) with enough to type.
        for (int i = (int)(lines.Length * 0.85); i >= 1; i--)
        {
            string l = lines[i];
            int indent = l.Length - l.TrimStart().Length;
            if (l.Length - indent < keystrokes + 2) continue;
            string typed = l[indent..];
            lines[i] = l[..indent];
            return new TypingDocument(string.Join('\n', lines), i, indent, typed);
        }
        return new TypingDocument(text + "\nvalue = ", lines.Length, 8, "compute(arguments)"[..Math.Max(keystrokes + 1, 1)]);
    }
}
