using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using NoirCode.Sidecar.Lsp;

namespace NoirCode.Bench.Infrastructure;

/// <summary>
/// The real sidecar (`noir lsp`) as a child process, spoken to frame by frame over stdio: requests matched to
/// responses by id, notifications collected, server-to-client requests answered, and raw bytes for fuzzing.
/// </summary>
public sealed class LspProcess : IDisposable
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    readonly Process _process;
    readonly Stream _stdin;
    readonly SemaphoreSlim _write = new(1, 1);
    readonly ConcurrentDictionary<long, TaskCompletionSource<JsonElement>> _pending = new();
    readonly Task _reader;
    long _nextId = 1000;

    /// <summary>Notifications from the server (noir/privacyStatus, $/progress), in order.</summary>
    public Channel<JsonElement> Notifications { get; } = Channel.CreateUnbounded<JsonElement>();
    /// <summary>Responses whose id was null or not one of ours (answers to malformed messages).</summary>
    public ConcurrentQueue<JsonElement> Unmatched { get; } = new();
    readonly ConcurrentQueue<string> _stderr = new();
    /// <summary>The last lines the sidecar wrote to stderr (events and counts, never code).</summary>
    public IReadOnlyList<string> StderrTail => _stderr.ToArray();
    /// <summary>Why reading the sidecar's output stopped, if not at its end.</summary>
    public Exception? ReaderError { get; private set; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;
    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    LspProcess(Process process)
    {
        _process = process;
        _stdin = process.StandardInput.BaseStream;
        _reader = Task.Run(ReadLoop);
    }

    /// <param name="environment">extra variables (the ledger and cache folders)</param>
    public static LspProcess Start(IReadOnlyDictionary<string, string>? environment = null, string noirDll = "")
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(noirDll.Length > 0 ? noirDll : Path.Combine(AppContext.BaseDirectory, "noir.dll"));
        psi.ArgumentList.Add("lsp");
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        var p = Process.Start(psi) ?? throw new IOException("could not start noir lsp");
        var lsp = new LspProcess(p);
        p.ErrorDataReceived += (_, e) => { if (e.Data != null) { lsp._stderr.Enqueue(e.Data); while (lsp._stderr.Count > 50) lsp._stderr.TryDequeue(out string? _); } };
        p.BeginErrorReadLine();
        return lsp;
    }

    async Task ReadLoop()
    {
        var frames = new LspFraming(_process.StandardOutput.BaseStream);
        try
        {
            while (await frames.ReadAsync() is { } body)
            {
                if (body.Length == 0) continue;
                var message = JsonDocument.Parse(body).RootElement.Clone();
                bool hasMethod = message.TryGetProperty("method", out _);
                bool hasId = message.TryGetProperty("id", out var id);
                if (hasMethod && hasId) await SendAsync(new { jsonrpc = "2.0", id, result = (object?)null }); // e.g. window/workDoneProgress/create
                else if (hasMethod) Notifications.Writer.TryWrite(message);
                else if (hasId && id.ValueKind == JsonValueKind.Number && id.TryGetInt64(out long n) && _pending.TryRemove(n, out var waiter)) waiter.TrySetResult(message);
                else Unmatched.Enqueue(message);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or JsonException) { ReaderError = e; }
        foreach (var w in _pending.Values) w.TrySetException(new IOException("the sidecar closed its output"));
        Notifications.Writer.TryComplete();
    }

    public Task SendAsync(object message) => SendFrameAsync(JsonSerializer.SerializeToUtf8Bytes(message, Json));

    public Task SendFrameAsync(byte[] body) => SendRawAsync(LspFraming.Frame(body));

    public async Task SendRawAsync(byte[] bytes)
    {
        await _write.WaitAsync();
        try { await _stdin.WriteAsync(bytes); await _stdin.FlushAsync(); }
        finally { _write.Release(); }
    }

    public long NextId() => Interlocked.Increment(ref _nextId);

    /// <summary>Registers an id whose response <see cref="ReadLoop"/> should hand back.</summary>
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
        return await response.WaitAsync(timeout ?? TimeSpan.FromSeconds(60));
    }

    public Task NotifyAsync(string method, object? @params) => SendAsync(new { jsonrpc = "2.0", method, @params });

    /// <summary>The next notification of <paramref name="method"/> that matches, skipping others.</summary>
    public async Task<JsonElement> WaitForNotificationAsync(string method, Func<JsonElement, bool> match, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        while (true)
        {
            var n = await Notifications.Reader.ReadAsync(cancel.Token);
            if (n.GetProperty("method").GetString() == method && n.TryGetProperty("params", out var p) && match(p)) return p;
        }
    }

    /// <summary>initialize + initialized, then waits until the model is loaded (mode split or local).</summary>
    public async Task<JsonElement> InitializeAsync(object initializationOptions, string? rootFolder = null, TimeSpan? timeout = null)
    {
        var init = await RequestAsync("initialize", new
        {
            processId = Environment.ProcessId, rootUri = rootFolder == null ? null : new Uri(rootFolder.TrimEnd('/') + "/").ToString(),
            capabilities = new { }, initializationOptions,
        });
        if (init.TryGetProperty("error", out var error)) throw new IOException("initialize failed: " + error);
        await NotifyAsync("initialized", new { });
        var ready = await WaitForNotificationAsync("noir/privacyStatus", s => s.GetProperty("mode").GetString() is "split" or "local" or "error", timeout ?? TimeSpan.FromSeconds(180));
        if (ready.GetProperty("mode").GetString() == "error") throw new IOException("the sidecar could not load the model: " + ready.GetProperty("detail").GetString());
        return ready;
    }

    public static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    public void KillHard() { if (!_process.HasExited) { _process.Kill(); _process.WaitForExit(); } }

    /// <summary>shutdown + exit, then waits; kills it if it does not go.</summary>
    public async Task<bool> ShutdownAsync()
    {
        try
        {
            await RequestAsync("shutdown", null, TimeSpan.FromSeconds(15));
            await NotifyAsync("exit", null);
            return _process.WaitForExit(15_000);
        }
        catch (Exception e) when (e is IOException or TimeoutException) { return false; }
    }

    public void Dispose()
    {
        try { if (!_process.HasExited) { _process.Kill(true); _process.WaitForExit(5000); } } catch (InvalidOperationException) { }
        _process.Dispose();
    }
}
