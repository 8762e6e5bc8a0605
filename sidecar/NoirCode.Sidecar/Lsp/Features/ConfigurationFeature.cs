using System.Text.Json;
using StreamJsonRpc;

namespace NoirCode.Sidecar.Lsp.Features;

/// <summary>
/// workspace/didChangeConfiguration: the settings section it carries replaces the current settings, never merged into
/// them (<see cref="SidecarSettings.From"/>), so a cleared setting is back at its default without a restart. A change to what the runtime is (model, endpoints,
/// keys, mode, wire, API key, what is allowed) reloads it; any other change applies to the runtime in use.
/// </summary>
public sealed class ConfigurationFeature(ServerContext context) : ILanguageServerFeature
{
    public void Register(FeatureRegistry registry) { }

    [JsonRpcMethod("workspace/didChangeConfiguration")]
    public void DidChangeConfiguration(DidChangeConfigurationParams p)
    {
        ParamsCheck.Require(p, "params");
        // No settings object (LSP allows null, for clients that pull settings instead) changes nothing.
        if (p.Settings.ValueKind != JsonValueKind.Object) return;
        var current = context.Settings;
        var next = SidecarSettings.From(p.Settings, context.InitializationOptions);
        if (next.LocalModelFolder != current.LocalModelFolder) context.Runtimes.DropWholeModel();
        context.Settings = next;
        if (ChangesTheRuntime(current, next))
        {
            _ = context.ReloadRuntime();
            return;
        }
        context.Runtimes.Apply(next);
        using var lease = context.Runtimes.TryAcquire();
        context.Status.Publish(context.Status.Refreshed(lease?.Runtime));
    }

    static bool ChangesTheRuntime(SidecarSettings a, SidecarSettings b) =>
        a.ModelFolder != b.ModelFolder || !(a.Endpoints ?? Array.Empty<string>()).SequenceEqual(b.Endpoints ?? Array.Empty<string>())
        || a.KeysFolder != b.KeysFolder || a.Mode != b.Mode || a.Wire != b.Wire || a.ApiKey != b.ApiKey
        || a.AllowCleartextEndpoint != b.AllowCleartextEndpoint || a.AllowUnprotectedEndpoint != b.AllowUnprotectedEndpoint;
}
