using System.Collections.Concurrent;
using System.Text.Json;
using Nerdbank.Streams;
using NoirCode.Core.Generation;
using NoirCode.Core.Model;
using NoirCode.Sidecar.Lsp;
using NoirCode.Sidecar.Runtime;
using StreamJsonRpc;

namespace NoirCode.Sidecar.Tests;

/// <summary>
/// The real language server in this test process, spoken to over an in-memory duplex stream, with the runtimes the
/// test makes: for what needs control of timing (a request held mid-decode) that a separate process cannot give.
/// </summary>
public sealed class InProcessServer : IAsyncDisposable
{
    public JsonRpc Rpc { get; }
    public BlockingCollection<JsonElement> Statuses { get; } = new();
    readonly NoirLanguageServer _server;
    readonly string _root;

    public InProcessServer(string root, Func<SidecarSettings, LoadedRuntime> runtimes)
    {
        _root = root;
        var (serverSide, clientSide) = FullDuplexStream.CreatePair();
        _server = new NoirLanguageServer(serverSide, serverSide, new Runtimes(runtimes));
        _server.Start();
        Rpc = new JsonRpc(new HeaderDelimitedMessageHandler(clientSide, clientSide, new SystemTextJsonFormatter { JsonSerializerOptions = SidecarProcess.Json }));
        var onStatus = new Action<JsonElement>(s => Statuses.Add(s));
        Rpc.AddLocalRpcMethod(onStatus.Method, onStatus.Target, new JsonRpcMethodAttribute("noir/privacyStatus") { UseSingleObjectParameterDeserialization = true });
        Rpc.StartListening();
    }

    /// <summary>A whole model on this machine as a runtime, over the session given (e.g. one that holds a request).</summary>
    public static LoadedRuntime LocalRuntime(string model, SidecarSettings settings, Func<IInferenceSession, IInferenceSession>? wrap = null) =>
        new(LocalModel(model, wrap), RuntimeMode.Local, settings);

    public static ModelRuntime LocalModel(string model, Func<IInferenceSession, IInferenceSession>? wrap = null)
    {
        var loaded = CausalLM.Load(model);
        IInferenceSession session = new LocalSession(loaded);
        return new ModelRuntime(loaded.Tokenizer, wrap?.Invoke(session) ?? session, "local", loaded.Config.MaxPositions, null, null, null) { ModelFolder = model };
    }

    sealed class Runtimes(Func<SidecarSettings, LoadedRuntime> load) : IRuntimeFactory
    {
        public LoadedRuntime Load(SidecarSettings settings, Core.Util.IProgressSink progress) => load(settings);
        public LoadedRuntime? LoadWholeModel(SidecarSettings settings) => null;
    }

    public async Task InitializeAsync(object initializationOptions)
    {
        await Rpc.InvokeWithParameterObjectAsync<JsonElement>("initialize", new { rootUri = new Uri(_root + "/").ToString(), capabilities = new { }, initializationOptions });
        await Rpc.NotifyWithParameterObjectAsync("initialized", new { });
    }

    public JsonElement WaitForStatus(Func<JsonElement, bool> match, int seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < deadline)
            if (Statuses.TryTake(out var s, 200) && match(s)) return s;
        Assert.Fail("no matching noir/privacyStatus notification");
        return default;
    }

    public string Uri(string name) => new Uri(Path.Combine(_root, name)).ToString();

    public Task Open(string name, string text) =>
        Rpc.NotifyWithParameterObjectAsync("textDocument/didOpen", new { textDocument = new { uri = Uri(name), languageId = "python", version = 1, text } });

    /// <param name="triggerKind">1: invoked (no debounce), 2: automatic</param>
    public Task<JsonElement> Complete(string name, int line, int character, int triggerKind = 1) =>
        Rpc.InvokeWithParameterObjectAsync<JsonElement>("textDocument/inlineCompletion",
            new { textDocument = new { uri = Uri(name) }, position = new { line, character }, context = new { triggerKind } });

    public Task<JsonElement> Stats() => Rpc.InvokeWithParameterObjectAsync<JsonElement>("noir/completionStats", new { });

    public ValueTask DisposeAsync()
    {
        Rpc.Dispose();
        _server.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>A session that holds its first prompt until released, and tells when it was disposed.</summary>
public sealed class HeldSession(IInferenceSession inner) : IInferenceSession
{
    readonly SemaphoreSlim _release = new(0);
    public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public volatile bool Disposed;
    int _held;
    public long Length => inner.Length;
    public float[] Append(IReadOnlyList<int> ids) { Hold(); return inner.Append(ids); }
    public float[][] AppendEach(IReadOnlyList<int> ids) { Hold(); return inner.AppendEach(ids); }
    void Hold()
    {
        if (Interlocked.Exchange(ref _held, 1) != 0) return;
        Entered.TrySetResult();
        _release.Wait(TimeSpan.FromSeconds(30));
    }
    public void Release() => _release.Release();
    public void Truncate(long length) { if (!Disposed) inner.Truncate(length); }
    public void Dispose() { Disposed = true; inner.Dispose(); }
}
