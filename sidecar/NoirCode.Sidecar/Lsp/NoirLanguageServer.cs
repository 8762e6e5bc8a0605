using System.Text.Json;
using NoirCode.Sidecar.Lsp.Features;
using NoirCode.Sidecar.Runtime;
using StreamJsonRpc;

namespace NoirCode.Sidecar.Lsp;

/// <summary>
/// The sidecar as a language server over stdio: the connection, the lifecycle (initialize, initialized, shutdown,
/// exit) and workspace/executeCommand's dispatch; everything else is a feature's (<see cref="ILanguageServerFeature"/>).
/// </summary>
public sealed class NoirLanguageServer : IDisposable
{
    readonly JsonRpc _rpc;
    readonly ServerContext _context;
    readonly FeatureRegistry _registry = new();
    readonly TaskCompletionSource _exit = new();
    int _initializeCount, _initializedCount;

    public Task Exited => _exit.Task;

    /// <param name="runtimes">makes the runtimes the settings ask for (<see cref="RuntimeFactory"/>)</param>
    /// <param name="securityReporter">the per-prompt attacks for noir.promptSecurityReport (null: not available)</param>
    public NoirLanguageServer(Stream input, Stream output, IRuntimeFactory runtimes, PromptSecurityReporter? securityReporter = null)
    {
        var formatter = new SystemTextJsonFormatter { JsonSerializerOptions = LspJson.Options };
        var sanitizer = new MessageSanitizer(input, output);
        sanitizer.Start();
        _rpc = new JsonRpc(new HeaderDelimitedMessageHandler(sanitizer.Output, sanitizer.Input, formatter));
        _context = new ServerContext(_rpc, runtimes);
        ILanguageServerFeature[] features =
        {
            new TextDocumentsFeature(_context), new InlineCompletionFeature(_context), new GenerateFunctionFeature(_context),
            new PrivacyStatusFeature(_context), new SecurityReportFeature(_context, securityReporter), new ConfigurationFeature(_context),
        };
        FeatureRegistry.AddMethods(_rpc, this);
        foreach (var feature in features)
        {
            feature.Register(_registry);
            FeatureRegistry.AddMethods(_rpc, feature);
        }
        _rpc.Disconnected += (_, e) =>
        {
            if (e.Reason != DisconnectedReason.RemotePartyTerminated) ServerContext.Log($"connection closed: {e.Reason} ({e.Exception?.GetType().Name})");
            _exit.TrySetResult();
        };
    }

    public void Start() => _rpc.StartListening();

    [JsonRpcMethod("initialize")]
    public InitializeResult Initialize(InitializeParams p)
    {
        ParamsCheck.Require(p, "params");
        // Once only: a second initialize would reset the settings under a running model.
        if (Interlocked.Exchange(ref _initializeCount, 1) != 0) throw new LocalRpcException("initialize was already received") { ErrorCode = -32600 };
        bool clientShowsProgress = p.Capabilities is { ValueKind: JsonValueKind.Object } c && c.TryGetProperty("window", out var w)
            && w.TryGetProperty("workDoneProgress", out var wdp) && wdp.ValueKind == JsonValueKind.True;
        string? root = p.RootUri is { } uri && Uri.TryCreate(uri, UriKind.Absolute, out var u) && u.IsFile ? u.LocalPath : null;
        _context.Initialize(p.InitializationOptions, root, clientShowsProgress);
        var capabilities = _registry.Capabilities(new
        {
            executeCommandProvider = new { commands = _registry.Commands },
            workspace = new { workspaceFolders = new { supported = false } },
        });
        return new InitializeResult(capabilities, new ServerInfo("noircode-sidecar", "0.1.0"));
    }

    [JsonRpcMethod("initialized")]
    public void Initialized()
    {
        // A repeated notification must not load the model (and restart the local endpoint) again.
        if (Interlocked.Exchange(ref _initializedCount, 1) == 0) _ = _context.ReloadRuntime();
    }

    [JsonRpcMethod("workspace/executeCommand")]
    public Task<object?> ExecuteCommand(ExecuteCommandParams p, CancellationToken cancel) => _registry.Execute(ParamsCheck.Require(p, "params"), cancel);

    /// <summary>The runtimes go (each once its last request is done), the embedded endpoint with them.</summary>
    [JsonRpcMethod("shutdown")]
    public object? Shutdown()
    {
        _context.Dispose();
        return null;
    }

    [JsonRpcMethod("exit")]
    public void Exit() => _exit.TrySetResult();

    public void Dispose() { _context.Dispose(); _rpc.Dispose(); }
}
