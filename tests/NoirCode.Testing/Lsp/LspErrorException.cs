using System.Text.Json;

namespace NoirCode.Testing.Lsp;

/// <summary>The server answered a request with an error: its message, then the server's last stderr lines.</summary>
public sealed class LspErrorException(string method, JsonElement error, string serverLog) : Exception(Describe(method, error, serverLog))
{
    /// <summary>The error object as the server sent it (code, message, data).</summary>
    public JsonElement Error { get; } = error.Clone();
    public int? Code => Error.TryGetProperty("code", out var code) && code.TryGetInt32(out int n) ? n : null;

    static string Describe(string method, JsonElement error, string serverLog) =>
        (error.TryGetProperty("message", out var m) ? m.GetString() : error.ToString()) + $" (the answer to {method})"
        + (serverLog.Length == 0 ? "" : "\n--- the server's last stderr lines ---\n" + serverLog);
}
