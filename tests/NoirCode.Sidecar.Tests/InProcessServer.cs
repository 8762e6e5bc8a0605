using Nerdbank.Streams;
using NoirCode.Core.Generation;
using NoirCode.Core.Model;
using NoirCode.Sidecar.Lsp;
using NoirCode.Sidecar.Runtime;
using NoirCode.Testing.Lsp;

namespace NoirCode.Sidecar.Tests;

/// <summary>
/// The real language server in this test process, spoken to over an in-memory duplex stream, with the runtimes the
/// test makes: for what needs control of timing (a request held mid-decode) that a separate process cannot give.
/// </summary>
public sealed class InProcessServer : LspClient
{
    readonly NoirLanguageServer _server;
    readonly Stream _clientSide;

    public InProcessServer(string root, Func<SidecarSettings, LoadedRuntime> runtimes) : this(root, FullDuplexStream.CreatePair(), runtimes) { }

    InProcessServer(string root, (Stream Server, Stream Client) pair, Func<SidecarSettings, LoadedRuntime> runtimes) : base(pair.Client, pair.Client)
    {
        Workspace = root;
        _clientSide = pair.Client;
        _server = new NoirLanguageServer(pair.Server, pair.Server, new Runtimes(runtimes));
        _server.Start();
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

    public override void Dispose()
    {
        _server.Dispose();
        _clientSide.Dispose();
    }
}
