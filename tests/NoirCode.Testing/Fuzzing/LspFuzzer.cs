using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NoirCode.Testing.Lsp;

namespace NoirCode.Testing.Fuzzing;

/// <summary>
/// Malformed LSP traffic to a real `noir lsp` process: broken framing and JSON, JSON-RPC envelopes of the wrong
/// shape, the server's own methods with parameters of the wrong types, out-of-range and inverted positions,
/// huge numbers and texts, messages in the wrong order, cancellations and responses nobody asked for. Every
/// request (a message with a method and a numeric id) must be answered; after each batch a ping must be answered
/// within the time limit (else: a hang); the process must stay up. Settings that would reload the model
/// (model, endpoint, keys, mode, wire, API key) and shutdown/exit are left out: they are not malformed.
/// </summary>
public sealed class LspFuzzer
{
    readonly LspProcess _lsp;
    readonly string _openUri, _workspace;
    public TimeSpan BatchTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>The last messages sent (their start), to find the one that upset the server.</summary>
    public Queue<string> Recent { get; } = new();

    /// <param name="openUri">a document the caller has opened (so some requests reach the model)</param>
    public LspFuzzer(LspProcess lsp, string workspace, string openUri) { _lsp = lsp; _workspace = workspace; _openUri = openUri; }

    public async Task<FuzzReport> RunAsync(int count, int seed, int batch = 50, Action<int>? progress = null)
    {
        var report = new FuzzReport();
        var rng = new Random(seed);
        var awaited = new List<(Task<JsonElement> Reply, string Kind)>();
        for (int i = 0; i < count; i++)
        {
            if (_lsp.HasExited) { report.Crashed = true; break; }
            var (kind, frame, id) = Next(rng);
            if (id is long expect) awaited.Add((_lsp.Expect(expect), kind));
            try { await _lsp.SendRawAsync(frame); }
            catch (IOException) { report.Crashed = true; break; }
            report.Sent++;
            report.Count(kind);
            Recent.Enqueue(kind + ": " + Encoding.UTF8.GetString(frame.AsSpan(0, Math.Min(frame.Length, 400))).ReplaceLineEndings(" "));
            while (Recent.Count > 60) Recent.Dequeue();
            if ((i + 1) % batch == 0 || i == count - 1)
            {
                if (!await Ping(report)) break;
                // Requests are handled concurrently: wait for every one of this batch, not just the ping.
                try { await Task.WhenAll(awaited.Select(a => a.Reply)).WaitAsync(BatchTimeout); } catch (Exception) { /* judged one by one below */ }
                foreach (var (reply, k) in awaited)
                {
                    if (!reply.IsCompleted) { Interlocked.Increment(ref report.Hangs); report.Find($"a {k} request got no answer"); }
                    else if (reply.IsCompletedSuccessfully && reply.Result.TryGetProperty("error", out var e) && e.GetProperty("code").GetInt32() is -32603 or -32000
                        && !e.GetProperty("message").GetString()!.StartsWith("The JSON value could not be converted", StringComparison.Ordinal)) // a clear type error
                        report.Find($"a {k} request failed inside the server: {e.GetProperty("message").GetString()}");
                }
                awaited.Clear();
                if (report.Sent % 1000 < batch) progress?.Invoke(report.Sent);
            }
        }
        if (_lsp.HasExited) report.Crashed = true;
        return report;
    }

    /// <summary>An unknown method: the server must answer MethodNotFound once it has worked through the batch.</summary>
    async Task<bool> Ping(FuzzReport report)
    {
        try
        {
            var reply = await _lsp.RequestAsync("noir/fuzzPing", new { }, BatchTimeout);
            return true;
        }
        catch (TimeoutException) { Interlocked.Increment(ref report.Hangs); report.Find("the server did not answer a ping after a batch"); }
        catch (IOException) { report.Crashed = true; }
        return false;
    }

    // ---- generators -------------------------------------------------------------------------------------------

    static readonly string[] Methods =
    {
        "textDocument/inlineCompletion", "textDocument/didOpen", "textDocument/didChange", "textDocument/didClose",
        "workspace/executeCommand", "workspace/didChangeConfiguration", "$/cancelRequest", "initialize", "initialized",
        "textDocument/completion", "unknown/method", "", "$/setTrace",
    };

    (string Kind, byte[] Frame, long? Id) Next(Random r)
    {
        switch (r.Next(20))
        {
            case 0: return ("framing", Framing(r), null);
            case 1: return ("not-json", Frame(NotJson(r)), null);
            case 2: return ("truncated-json", Truncated(r), null);
            case 3:
            case 4: return Envelope(r);
            default: return Semantic(r);
        }
    }

    static byte[] Frame(byte[] body) => NoirCode.Sidecar.Lsp.LspFraming.Frame(body);
    static byte[] Frame(string body) => Frame(Encoding.UTF8.GetBytes(body));

    static byte[] Framing(Random r)
    {
        string body = "{\"jsonrpc\":\"2.0\",\"method\":\"initialized\",\"params\":{}}";
        return r.Next(7) switch
        {
            0 => Encoding.ASCII.GetBytes($"Content-Length: -{r.Next(1, 100)}\r\n\r\n"),
            1 => Encoding.ASCII.GetBytes($"Content-Length: {new string('9', r.Next(11, 40))}\r\n\r\n"),
            2 => Encoding.ASCII.GetBytes("Content-Length: twelve\r\n\r\n"),
            3 => Encoding.ASCII.GetBytes($"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n"),            // no length at all
            4 => Encoding.ASCII.GetBytes($"X-{new string('h', r.Next(1, 20_000))}: 1\r\nContent-Length: {body.Length}\r\n\r\n{body}"), // a header line over 8 KB
            5 => Encoding.ASCII.GetBytes($"content-length:{body.Length}\r\nContent-Type: text/plain\r\n\r\n{body}"),                // odd but valid
            _ => r.Next(50) == 0 ? Frame(new byte[NoirCode.Sidecar.Lsp.LspFraming.MaxMessageBytes + 1]) : Encoding.ASCII.GetBytes("\r\n\r\n\r\n"),
        };
    }

    static byte[] NotJson(Random r)
    {
        switch (r.Next(5))
        {
            case 0: { var b = new byte[r.Next(1, 500)]; r.NextBytes(b); return b; }                                  // random bytes, invalid UTF-8
            case 1: return Encoding.UTF8.GetBytes(new string('[', r.Next(65, 5000)));                                  // too deep
            case 2: return Encoding.UTF8.GetBytes("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"params\":{\"a\":\"\\ud800\"}}\u0000");
            case 3: return Encoding.UTF8.GetBytes("{'jsonrpc': '2.0', 'id': 1}");
            default: return Array.Empty<byte>();
        }
    }

    /// <summary>A request cut short, padded with spaces to its declared length (so the stream stays in step).</summary>
    byte[] Truncated(Random r)
    {
        var full = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(Request(r.Next(1_000_000, 2_000_000), "textDocument/inlineCompletion", CompletionParams(r))));
        var cut = full.Take(r.Next(1, full.Length - 1)).Concat(Enumerable.Repeat((byte)' ', r.Next(0, 10))).ToArray();
        return Frame(cut);
    }

    (string, byte[], long?) Envelope(Random r)
    {
        long id = _lsp.NextId();
        JsonNode? idNode = r.Next(6) switch { 0 => null, 1 => JsonValue.Create(1.5), 2 => new JsonArray(1), 3 => new JsonObject(), 4 => JsonValue.Create(true), _ => JsonValue.Create(id) };
        var o = new JsonObject();
        switch (r.Next(8))
        {
            case 0: o["jsonrpc"] = "1.0"; o["id"] = idNode; o["method"] = "initialized"; break;
            case 1: o["id"] = idNode; o["method"] = Pick(r, Methods); break;                                       // no jsonrpc
            case 2: o["jsonrpc"] = "2.0"; o["id"] = idNode; o["method"] = r.Next(2) == 0 ? 42 : new JsonArray("x"); break;
            case 3: o["jsonrpc"] = "2.0"; o["id"] = idNode; o["method"] = Pick(r, Methods); o["params"] = r.Next(3) switch { 0 => 7, 1 => "params", _ => true }; break;
            case 4: o["jsonrpc"] = "2.0"; o["id"] = idNode; o["result"] = "nobody asked"; break;                    // a stray response
            case 5: o["jsonrpc"] = "2.0"; o["id"] = idNode; o["error"] = new JsonObject { ["code"] = "x", ["message"] = 5 }; break;
            case 6: return ("batch", Frame(new JsonArray(Request(id, "noir/fuzzPing", null), Request(id + 1, "initialized", null)).ToJsonString()), null);
            default: o["jsonrpc"] = 2.0; o["id"] = idNode; o["method"] = "initialized"; break;
        }
        bool answered = o.ContainsKey("method") && idNode is JsonValue v && v.TryGetValue<long>(out long n) && n == id;
        return ("envelope", Frame(o.ToJsonString()), answered ? id : null);
    }

    (string, byte[], long?) Semantic(Random r)
    {
        string method = r.Next(10) switch
        {
            < 3 => "textDocument/inlineCompletion",
            3 => "textDocument/didOpen",
            4 => "textDocument/didChange",
            5 => "textDocument/didClose",
            6 => "workspace/executeCommand",
            7 => "workspace/didChangeConfiguration",
            8 => "$/cancelRequest",
            _ => Pick(r, Methods),
        };
        JsonNode? p = method switch
        {
            "textDocument/inlineCompletion" => CompletionParams(r),
            "textDocument/didOpen" => new JsonObject { ["textDocument"] = new JsonObject { ["uri"] = Uri(r), ["languageId"] = Junk(r, "python"), ["version"] = Junk(r, 1), ["text"] = Text(r) } },
            "textDocument/didChange" => new JsonObject
            {
                ["textDocument"] = new JsonObject { ["uri"] = Uri(r), ["version"] = Junk(r, 2) },
                ["contentChanges"] = r.Next(5) == 0 ? Junk(r, (JsonNode?)null) : new JsonArray(Enumerable.Range(0, r.Next(0, 4)).Select(_ => (JsonNode)new JsonObject { ["range"] = r.Next(4) == 0 ? null : RangeNode(r), ["text"] = Text(r) }).ToArray()),
            },
            "textDocument/didClose" => new JsonObject { ["textDocument"] = new JsonObject { ["uri"] = r.Next(10) == 0 ? _openUri + "x" : Uri(r) } },
            "workspace/executeCommand" => new JsonObject
            {
                ["command"] = r.Next(3) == 0 ? Junk(r, "noir.other") : "noir.generateFunction",
                ["arguments"] = r.Next(4) == 0 ? Junk(r, (JsonNode?)null) : new JsonArray(Enumerable.Range(0, r.Next(0, 3)).Select(_ => (JsonNode?)(r.Next(4) == 0 ? Junk(r, 1) :
                    new JsonObject { ["uri"] = Uri(r, closedOnly: r.Next(8) != 0), ["position"] = r.Next(3) == 0 ? null : PositionNode(r), ["range"] = r.Next(3) == 0 ? RangeNode(r) : null, ["instruction"] = Junk(r, "write it") })).ToArray()),
            },
            "workspace/didChangeConfiguration" => new JsonObject
            {
                ["settings"] = r.Next(4) == 0 ? Junk(r, (JsonNode?)null) : new JsonObject
                {
                    ["noir"] = r.Next(3) == 0 ? Junk(r, (JsonNode?)null) : new JsonObject
                    {
                        ["exposureBudgetTokens"] = r.Next(2) == 0 ? Junk(r, 1_000_000_000_000L) : (JsonNode)1_000_000_000_000L,
                        ["exposurePeriod"] = Junk(r, "day"), ["atLimit"] = Junk(r, "block"),
                        ["disabledLanguages"] = r.Next(2) == 0 ? Junk(r, new JsonArray()) : new JsonArray(),
                        ["maxNewTokens"] = Junk(r, 64),
                    },
                },
            },
            "$/cancelRequest" => new JsonObject { ["id"] = Junk(r, r.Next(1000)) },
            "initialize" => r.Next(2) == 0 ? Junk(r, (JsonNode?)null) : new JsonObject { ["capabilities"] = Junk(r, new JsonObject()), ["processId"] = Junk(r, 1), ["rootUri"] = Junk(r, "file:///nonexistent") },
            _ => r.Next(2) == 0 ? new JsonObject() : null,
        };
        if (method == "initialize" && p is JsonObject po && po["rootUri"] is JsonValue rv && rv.TryGetValue<string>(out _)) po["rootUri"] = 5; // never moves the workspace
        bool request = method is "textDocument/inlineCompletion" or "workspace/executeCommand" or "initialize" || r.Next(4) == 0;
        long id = _lsp.NextId();
        var message = request ? Request(id, method, p) : Notification(method, p);
        return ("method:" + (method.Length == 0 ? "(empty)" : method), Frame(message.ToJsonString()), request ? id : null);
    }

    JsonObject CompletionParams(Random r) => new()
    {
        ["textDocument"] = r.Next(8) == 0 ? Junk(r, (JsonNode?)null) : new JsonObject { ["uri"] = Uri(r) },
        ["position"] = r.Next(8) == 0 ? Junk(r, (JsonNode?)null) : PositionNode(r),
        // Mostly automatic (cached, debounced); explicit requests run the model, so fewer of them.
        ["context"] = r.Next(6) == 0 ? Junk(r, (JsonNode?)null) : new JsonObject
        {
            ["triggerKind"] = r.Next(10) == 0 ? 1 : r.Next(10) == 0 ? Junk(r, 2) : 2,
            ["selectedCompletionInfo"] = r.Next(4) == 0 ? new JsonObject { ["range"] = RangeNode(r), ["text"] = Text(r) } : null,
        },
    };

    JsonNode? Uri(Random r, bool closedOnly = false) => r.Next(12) switch
    {
        0 => Junk(r, (JsonNode?)null),
        1 => "not a uri",
        2 => "file:///etc/../" + new string('a', r.Next(1, 300)),
        3 => "file://" + _workspace + "/.env",
        < 7 when !closedOnly => _openUri,
        _ => "file://" + _workspace + "/fuzz" + r.Next(20) + ".py",
    };

    static JsonNode? PositionNode(Random r) => new JsonObject { ["line"] = Number(r), ["character"] = Number(r) };
    static JsonNode? RangeNode(Random r) => r.Next(6) == 0 ? Junk(r, (JsonNode?)null) : new JsonObject { ["start"] = PositionNode(r), ["end"] = PositionNode(r) };

    static JsonNode? Number(Random r) => r.Next(10) switch
    {
        0 => -r.Next(1, 1000),
        1 => int.MaxValue,
        2 => int.MinValue,
        3 => JsonValue.Create(9_007_199_254_740_993L),
        4 => JsonValue.Create(1.5),
        5 => "3",
        6 => null,
        _ => r.Next(0, 40),
    };

    static JsonNode? Text(Random r) => r.Next(12) switch
    {
        0 => null,
        1 => 12345,
        2 => new string('x', r.Next(100_000, 2_500_000)),                       // past the document size bound
        3 => "\ud800\udfff\u0000\u202e\r\r\n\t" + new string('\n', r.Next(0, 5000)),
        4 => "def f(:\n    return ))))",
        _ => "x = " + r.Next() + "\n",
    };

    /// <summary>The expected value, or something of another type.</summary>
    static JsonNode? Junk(Random r, JsonNode? expected) => r.Next(6) switch
    {
        0 => null,
        1 => 3.25,
        2 => "junk",
        3 => new JsonArray(1, "a"),
        4 => new JsonObject { ["nested"] = new JsonObject() },
        _ => expected?.DeepClone(),
    };

    static JsonNode? Junk(Random r, string expected) => Junk(r, (JsonNode)expected);
    static JsonNode? Junk(Random r, long expected) => Junk(r, (JsonNode)expected);
    static JsonNode? Junk(Random r, int expected) => Junk(r, (JsonNode)expected);

    static JsonObject Request(long id, string method, JsonNode? p) => new() { ["jsonrpc"] = "2.0", ["id"] = id, ["method"] = method, ["params"] = p };
    static JsonObject Notification(string method, JsonNode? p) => new() { ["jsonrpc"] = "2.0", ["method"] = method, ["params"] = p };
    static string Pick(Random r, string[] items) => items[r.Next(items.Length)];

    /// <summary>Opens a document and asks for a completion, fuzzes, and asks again: the answer must be the same.</summary>
    public static async Task<(FuzzReport Report, string Detail)> RunCheckedAsync(LspProcess lsp, string workspace, int count, int seed, Action<int>? progress = null)
    {
        string uri = new Uri(Path.Combine(workspace, "kept.py")).ToString();
        const string text = "import os\n\n\nclass Config:\n    path = os.environ.get('HOME')\n    name = \n";
        await lsp.NotifyAsync("textDocument/didOpen", new { textDocument = new { uri, languageId = "python", version = 1, text } });
        async Task<string> Complete()
        {
            var r = await lsp.RequestAsync("textDocument/inlineCompletion", new { textDocument = new { uri }, position = new { line = 5, character = 11 }, context = new { triggerKind = 1 } }, TimeSpan.FromSeconds(60));
            return r.GetProperty("result").GetProperty("items").ToString();
        }
        // The suggestion's deadline counts from the request, so a cold first request (JIT, first prefill) can be cut
        // shorter than a warm one: compare warm answers only.
        await Complete();
        string before = await Complete();
        string fuzzUri = new Uri(Path.Combine(workspace, "fuzz0.py")).ToString();
        await lsp.NotifyAsync("textDocument/didOpen", new { textDocument = new { uri = fuzzUri, languageId = "python", version = 1, text = "x = 1\ny = [i for i in range(10)]\n" } });
        var fuzzer = new LspFuzzer(lsp, workspace, fuzzUri);
        var report = await fuzzer.RunAsync(count, seed, progress: progress);
        if (report.Crashed || report.Hangs > 0) foreach (var m in fuzzer.Recent) Console.Error.WriteLine("recent: " + m);
        string detail = "the sidecar had exited";
        if (!lsp.HasExited && !report.Crashed)
        {
            // Settings back to sane values (the fuzzing may have set a budget, disabled languages, changed the suggestion
            // length: the sidecars here start with 8 tokens): then the same request.
            await lsp.NotifyAsync("workspace/didChangeConfiguration", new { settings = new { noir = new { exposureBudgetTokens = 1_000_000_000_000L, disabledLanguages = Array.Empty<string>(), maxNewTokens = 8 } } });
            await lsp.NotifyAsync("textDocument/didOpen", new { textDocument = new { uri, languageId = "python", version = 1, text } });
            try
            {
                await Complete(); // warm again: the session holds the fuzzed document now
                string after = await Complete();
                report.AnswersCorrectlyAfter = after == before;
                detail = after == before ? $"same items: {Shorten(before)}" : $"before {Shorten(before)}, after {Shorten(after)}";
            }
            catch (Exception e) when (e is TimeoutException or IOException or KeyNotFoundException or InvalidOperationException) { detail = "the completion afterwards failed: " + e.Message; }
        }
        return (report, detail);
    }

    static string Shorten(string s) => JsonSerializer.Serialize(s.Length > 120 ? s[..120] + "…" : s);
}
