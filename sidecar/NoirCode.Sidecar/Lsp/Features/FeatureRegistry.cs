using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using StreamJsonRpc;

namespace NoirCode.Sidecar.Lsp.Features;

/// <summary>What the features offer: the capabilities of the initialize result and the commands of workspace/executeCommand.</summary>
public sealed class FeatureRegistry
{
    public delegate Task<object?> CommandHandler(ExecuteCommandParams command, CancellationToken cancel);

    readonly JsonObject _capabilities = new();
    readonly Dictionary<string, CommandHandler> _commands = new(StringComparer.Ordinal);
    readonly List<string> _commandNames = new();

    public void Capability(string name, object value) => _capabilities[name] = JsonSerializer.SerializeToNode(value, LspJson.Options);

    public void Command(string name, CommandHandler handler)
    {
        _commands.Add(name, handler);
        _commandNames.Add(name);
    }

    /// <summary>The commands, in the order the features registered them.</summary>
    public IReadOnlyList<string> Commands => _commandNames;

    public Task<object?> Execute(ExecuteCommandParams p, CancellationToken cancel) =>
        _commands.TryGetValue(p.Command ?? "", out var handler) ? handler(p, cancel)
            : throw new LocalRpcException($"unknown command {p.Command}") { ErrorCode = -32601 };

    /// <summary>The features' capabilities, then <paramref name="more"/> (the server's own).</summary>
    public JsonElement Capabilities(object more)
    {
        var all = (JsonObject)_capabilities.DeepClone();
        foreach (var (name, value) in JsonSerializer.SerializeToNode(more, LspJson.Options)!.AsObject()) all[name] = value?.DeepClone();
        return JsonSerializer.SerializeToElement(all, LspJson.Options);
    }

    /// <summary>Registers the public methods of <paramref name="target"/> marked [JsonRpcMethod], and no others.</summary>
    public static void AddMethods(JsonRpc rpc, object target)
    {
        foreach (var method in target.GetType().GetMethods(BindingFlags.Public | BindingFlags.Instance))
            if (method.GetCustomAttribute<JsonRpcMethodAttribute>() is { Name: { } name })
                rpc.AddLocalRpcMethod(method, target, new JsonRpcMethodAttribute(name) { UseSingleObjectParameterDeserialization = true });
    }
}
