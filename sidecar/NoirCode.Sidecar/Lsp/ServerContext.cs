using System.Diagnostics;
using System.Text.Json;
using NoirCode.Privacy.Ledger;
using NoirCode.Sidecar.Runtime;
using StreamJsonRpc;

namespace NoirCode.Sidecar.Lsp;

/// <summary>
/// What the language server's features share: the connection, the open documents, the settings and workspace,
/// the runtimes, the privacy status and the exposure ledger.
/// </summary>
public sealed class ServerContext : IDisposable
{
    volatile SidecarSettings _settings = new();

    public ServerContext(JsonRpc rpc, IRuntimeFactory runtimes)
    {
        Rpc = rpc;
        Runtimes = new RuntimeHost(runtimes, Log);
        Status = new PrivacyStatusPublisher(rpc, () => _settings, Ledger);
    }

    public JsonRpc Rpc { get; }
    public DocumentStore Documents { get; } = new();
    public RuntimeHost Runtimes { get; }
    public PrivacyStatusPublisher Status { get; }
    public Lazy<ExposureLedger> Ledger { get; } = new(() => new ExposureLedger(ExposureLedger.DefaultFolder()));
    public SidecarSettings Settings { get => _settings; set => _settings = value; }
    /// <summary>The workspace folder, when the client named one on this machine.</summary>
    public string? Root { get; private set; }
    public SensitiveFiles Sensitive { get; private set; } = new();
    public bool ClientShowsProgress { get; private set; }
    /// <summary>The client's settings at start: what a later settings section leaves out (<see cref="SidecarSettings.From"/>).</summary>
    public JsonElement? InitializationOptions { get; private set; }

    public void Initialize(JsonElement? initializationOptions, string? root, bool clientShowsProgress)
    {
        InitializationOptions = initializationOptions?.Clone();
        _settings = SidecarSettings.From(initializationOptions);
        Root = root;
        Sensitive = SensitiveFiles.ForWorkspace(root);
        ClientShowsProgress = clientShowsProgress;
    }

    public LspProgress Progress(string title) => new(Rpc, ClientShowsProgress, title);

    /// <summary>Events and counts on stderr, never code.</summary>
    public static void Log(string message) => Console.Error.WriteLine($"noir-lsp: {message}");

    /// <summary>Loads the runtime the settings ask for in place of the one in use, telling the client how it goes.</summary>
    public Task ReloadRuntime() => Runtimes.Reload(factory =>
    {
        Status.Publish(new PrivacyStatus { Mode = PrivacyStatus.Loading, Detail = "loading the model" });
        var progress = Progress("NoirCode: loading the model");
        try
        {
            var clock = Stopwatch.StartNew();
            var runtime = factory.Load(Settings, progress);
            progress.End();
            Log($"model ready in {clock.ElapsedMilliseconds} ms: {runtime.Description}");
            Status.Publish(Status.For(runtime) with { Detail = runtime.Description });
            return runtime;
        }
        catch (Exception e)
        {
            progress.End();
            Log($"model failed to load: {e.Message}");
            Status.Publish(new PrivacyStatus { Mode = PrivacyStatus.Error, Detail = e.Message });
            return null;
        }
    });

    /// <summary>A lease on the runtime in use (after the load under way), or the error for a request that needs one.</summary>
    public async Task<RuntimeLease> RequireRuntimeAsync(CancellationToken cancel) =>
        await Runtimes.AcquireAsync(cancel) ?? throw new LocalRpcException("the model is not loaded: " + Status.Current.Detail) { ErrorCode = -32803 };

    public void Dispose() => Runtimes.Dispose();
}
