using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using NoirCode.Sidecar.Lsp;

namespace NoirCode.Testing.Lsp;

/// <summary>
/// An LSP client for tests and benchmarks, spoken frame by frame: requests matched to responses by id,
/// notifications collected in order, server-to-client requests answered, and raw bytes for fuzzing. It declares
/// what the editor does (work-done progress). A wait that fails says what the server said last
/// (<see cref="ServerLog"/>), so a failed test shows why.
/// </summary>
public class LspClient : IDisposable, IAsyncDisposable
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    /// <summary>How long a request may take before it fails: longer than the slowest (a key rotation with a re-tune) on
    /// a loaded machine, so that a hung server fails the test with its stderr instead of hanging the run.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(5);

    readonly Stream _toServer;
    readonly SemaphoreSlim _write = new(1, 1);
    readonly ConcurrentDictionary<long, TaskCompletionSource<JsonElement>> _pending = new();
    readonly Task _reader;
    long _nextId = 1000;

    /// <summary>Notifications from the server (noir/privacyStatus, $/progress, …), whole messages, in order.</summary>
    public Channel<JsonElement> Notifications { get; } = Channel.CreateUnbounded<JsonElement>();
    /// <summary>The params of every $/progress notification, kept apart so waiting on other notifications leaves them.</summary>
    public ConcurrentQueue<JsonElement> Progress { get; } = new();
    /// <summary>Responses whose id was null or not one of ours (answers to malformed messages).</summary>
    public ConcurrentQueue<JsonElement> Unmatched { get; } = new();
    /// <summary>Why reading the server's output stopped, if not at its end.</summary>
    public Exception? ReaderError { get; private set; }
    /// <summary>The workspace folder (the root the server is given); <see cref="Uri"/> names files in it.</summary>
    public string? Workspace { get; protected set; }

    /// <param name="toServer">the server's input</param>
    /// <param name="fromServer">the server's output</param>
    public LspClient(Stream toServer, Stream fromServer)
    {
        _toServer = toServer;
        _reader = Task.Run(() => ReadLoop(fromServer));
    }

    /// <summary>What the server said last (a process's stderr), for failure messages; empty when unknown.</summary>
    protected virtual string ServerLog => "";

    /// <summary><paramref name="what"/>, and the server's last words when there are any.</summary>
    protected string Explain(string what) => ServerLog.Length == 0 ? what : $"{what}\n--- the server's last stderr lines ---\n{ServerLog}";

    async Task ReadLoop(Stream fromServer)
    {
        var frames = new LspFraming(fromServer);
        try
        {
            while (await frames.ReadAsync() is { } body)
            {
                if (body.Length == 0) continue;
                var message = JsonDocument.Parse(body).RootElement.Clone();
                bool hasMethod = message.TryGetProperty("method", out var method);
                bool hasId = message.TryGetProperty("id", out var id);
                if (hasMethod && hasId) await SendAsync(new { jsonrpc = "2.0", id, result = (object?)null }); // e.g. window/workDoneProgress/create
                else if (hasMethod)
                {
                    if (method.GetString() == "$/progress" && message.TryGetProperty("params", out var progress)) Progress.Enqueue(progress);
                    Notifications.Writer.TryWrite(message);
                }
                else if (hasId && id.ValueKind == JsonValueKind.Number && id.TryGetInt64(out long n) && _pending.TryRemove(n, out var waiter)) waiter.TrySetResult(message);
                else Unmatched.Enqueue(message);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or JsonException) { ReaderError = e; }
        foreach (var w in _pending.Values) w.TrySetException(new IOException(Explain("the server closed its output")));
        Notifications.Writer.TryComplete();
    }

    public Task SendAsync(object message) => SendFrameAsync(JsonSerializer.SerializeToUtf8Bytes(message, Json));

    public Task SendFrameAsync(byte[] body) => SendRawAsync(LspFraming.Frame(body));

    public async Task SendRawAsync(byte[] bytes)
    {
        await _write.WaitAsync();
        try { await _toServer.WriteAsync(bytes); await _toServer.FlushAsync(); }
        finally { _write.Release(); }
    }

    public long NextId() => Interlocked.Increment(ref _nextId);

    /// <summary>Registers an id whose response the reader should hand back.</summary>
    public Task<JsonElement> Expect(long id)
    {
        var waiter = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = waiter;
        return waiter.Task;
    }

    /// <returns>the whole response (result or error)</returns>
    public async Task<JsonElement> RequestAsync(string method, object? @params, TimeSpan? timeout = null)
    {
        long id = NextId();
        var response = Expect(id);
        await SendAsync(new { jsonrpc = "2.0", id, method, @params });
        var limit = timeout ?? DefaultTimeout;
        try { return await response.WaitAsync(limit); }
        catch (TimeoutException) { throw new TimeoutException(Explain($"no answer to {method} within {limit.TotalSeconds:0} s")); }
    }

    /// <returns>the response's result</returns>
    /// <exception cref="LspErrorException">the server answered with an error</exception>
    public async Task<JsonElement> InvokeAsync(string method, object? @params, TimeSpan? timeout = null)
    {
        var response = await RequestAsync(method, @params, timeout);
        if (response.TryGetProperty("error", out var error)) throw new LspErrorException(method, error, ServerLog);
        return response.TryGetProperty("result", out var result) ? result : default;
    }

    public Task NotifyAsync(string method, object? @params) => SendAsync(new { jsonrpc = "2.0", method, @params });

    /// <summary>The params of the next notification of <paramref name="method"/> that matches, skipping others.</summary>
    public async Task<JsonElement> WaitForNotificationAsync(string method, Func<JsonElement, bool> match, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                var n = await Notifications.Reader.ReadAsync(cancel.Token);
                if (n.GetProperty("method").GetString() == method && n.TryGetProperty("params", out var p) && match(p)) return p;
            }
        }
        catch (OperationCanceledException) { throw new TimeoutException(Explain($"no matching {method} notification within {timeout.TotalSeconds:0} s")); }
        catch (ChannelClosedException) { throw new IOException(Explain($"the server closed its output before a matching {method} notification")); }
    }

    /// <summary>The next noir/privacyStatus notification that matches (blocking, as a test step).</summary>
    public JsonElement WaitForStatus(Func<JsonElement, bool> match, int seconds = 90) =>
        WaitForNotificationAsync("noir/privacyStatus", match, TimeSpan.FromSeconds(seconds)).GetAwaiter().GetResult();

    /// <summary>initialize + initialized, as the editor sends them.</summary>
    /// <param name="rootFolder">the workspace folder (default: <see cref="Workspace"/>, if set)</param>
    /// <returns>the server's capabilities</returns>
    public async Task<JsonElement> InitializeAsync(object initializationOptions, string? rootFolder = null)
    {
        if (rootFolder != null) Workspace = rootFolder;
        var init = await InvokeAsync("initialize", new
        {
            processId = Environment.ProcessId, rootUri = Workspace == null ? null : new Uri(Workspace.TrimEnd('/') + "/").ToString(),
            capabilities = new { window = new { workDoneProgress = true } }, initializationOptions,
        });
        await NotifyAsync("initialized", new { });
        return init.GetProperty("capabilities");
    }

    /// <summary><see cref="InitializeAsync"/>, then waits until the model is loaded (mode split or local).</summary>
    /// <returns>the status that said so</returns>
    public async Task<JsonElement> InitializeUntilReadyAsync(object initializationOptions, string? rootFolder = null, TimeSpan? timeout = null)
    {
        await InitializeAsync(initializationOptions, rootFolder);
        var ready = await WaitForNotificationAsync("noir/privacyStatus", s => s.GetProperty("mode").GetString() is "split" or "local" or "error", timeout ?? TimeSpan.FromSeconds(180));
        if (ready.GetProperty("mode").GetString() == "error") throw new IOException(Explain("the sidecar could not load the model: " + ready.GetProperty("detail").GetString()));
        return ready;
    }

    /// <summary>The URI of <paramref name="name"/> in the <see cref="Workspace"/>.</summary>
    public string Uri(string name) =>
        new Uri(Path.Combine(Workspace ?? throw new InvalidOperationException("initialize with a workspace folder first"), name)).ToString();

    public Task Open(string name, string text, string language = "python") =>
        NotifyAsync("textDocument/didOpen", new { textDocument = new { uri = Uri(name), languageId = language, version = 1, text } });

    /// <param name="triggerKind">1: invoked (no debounce), 2: automatic (as the editor asks while one types)</param>
    /// <returns>the result: the inline completion items</returns>
    public Task<JsonElement> Complete(string name, int line, int character, int triggerKind = 2) =>
        InvokeAsync("textDocument/inlineCompletion", new { textDocument = new { uri = Uri(name) }, position = new { line, character }, context = new { triggerKind } });

    public Task<JsonElement> Stats() => InvokeAsync("noir/completionStats", new { });

    public static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    public virtual void Dispose() { }

    public ValueTask DisposeAsync()
    {
        Dispose();
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}
