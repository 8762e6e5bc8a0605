using System.Text.Json;
using StreamJsonRpc;

namespace NoirCode.Sidecar.Lsp.Features;

/// <summary>The argument object of a workspace/executeCommand command.</summary>
public static class CommandArguments
{
    /// <returns>the first argument when it is an object, else null</returns>
    /// <exception cref="LocalRpcException">invalid params (-32602) when it does not fit <typeparamref name="T"/></exception>
    public static T? Optional<T>(ExecuteCommandParams p) where T : class
    {
        if (p.Arguments is not { Length: > 0 } a || a[0].ValueKind != JsonValueKind.Object) return null;
        try { return a[0].Deserialize<T>(LspJson.Options); }
        catch (JsonException e) { throw new LocalRpcException("invalid params: " + e.Message) { ErrorCode = -32602 }; }
    }
}
