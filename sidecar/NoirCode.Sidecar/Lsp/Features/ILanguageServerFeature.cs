namespace NoirCode.Sidecar.Lsp.Features;

/// <summary>
/// One thing the language server does. Its JSON-RPC methods are its public methods marked
/// <see cref="StreamJsonRpc.JsonRpcMethodAttribute"/>, which the server registers; <see cref="Register"/> adds its
/// capabilities and its workspace/executeCommand commands.
/// </summary>
public interface ILanguageServerFeature
{
    void Register(FeatureRegistry registry);
}
