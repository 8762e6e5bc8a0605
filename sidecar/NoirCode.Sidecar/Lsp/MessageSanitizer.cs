using System.IO.Pipelines;
using System.Text.Json;

namespace NoirCode.Sidecar.Lsp;

/// <summary>
/// Stands between the stdio streams and the JSON-RPC engine. StreamJsonRpc drops the connection on a message it
/// cannot parse; an editor's language server must not. Each incoming frame is checked (size, JSON, jsonrpc 2.0,
/// params shape); a bad one is answered here with a JSON-RPC error (its id when it has one, else null) and not
/// passed on. Outgoing messages are forwarded frame by frame, so an error frame never lands inside another.
/// </summary>
public sealed class MessageSanitizer
{
    readonly Stream _stdin, _stdout;
    readonly Pipe _incoming = new(), _outgoing = new();
    readonly SemaphoreSlim _write = new(1, 1);

    public MessageSanitizer(Stream stdin, Stream stdout) { _stdin = stdin; _stdout = stdout; }

    /// <summary>What the JSON-RPC engine reads.</summary>
    public Stream Input => _incoming.Reader.AsStream();
    /// <summary>What the JSON-RPC engine writes.</summary>
    public Stream Output => _outgoing.Writer.AsStream();

    public void Start()
    {
        _ = Task.Run(PumpIncoming);
        _ = Task.Run(PumpOutgoing);
    }

    async Task PumpIncoming()
    {
        var framing = new LspFraming(_stdin);
        try
        {
            while (await framing.ReadAsync() is { } body)
            {
                var (reason, id) = Check(body);
                if (reason == null) await _incoming.Writer.WriteAsync(LspFraming.Frame(body));
                else await WriteFrame(JsonSerializer.SerializeToUtf8Bytes(new
                {
                    jsonrpc = "2.0", id,
                    error = new { code = reason.StartsWith("parse error", StringComparison.Ordinal) || body.Length == 0 ? -32700 : -32600, message = "malformed JSON-RPC message: " + reason },
                }));
            }
        }
        catch (IOException) { }
        await _incoming.Writer.CompleteAsync();
    }

    async Task PumpOutgoing()
    {
        var framing = new LspFraming(_outgoing.Reader.AsStream());
        try
        {
            while (await framing.ReadAsync() is { } body) await WriteFrame(body);
        }
        catch (IOException) { }
    }

    async Task WriteFrame(byte[] body)
    {
        await _write.WaitAsync();
        try
        {
            await _stdout.WriteAsync(LspFraming.Frame(body));
            await _stdout.FlushAsync();
        }
        finally { _write.Release(); }
    }

    /// <returns>why the message is refused (null: it is fine), and its id if one could be read</returns>
    static (string? Reason, JsonElement? Id) Check(byte[] body)
    {
        if (body.Length == 0) return ("empty, oversized or unframed message", null);
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return ("a JSON-RPC message must be an object", null);
            JsonElement? id = root.TryGetProperty("id", out var i) && i.ValueKind is JsonValueKind.String or JsonValueKind.Number ? i.Clone() : null;
            if (!root.TryGetProperty("jsonrpc", out var v) || v.ValueKind != JsonValueKind.String || v.GetString() != "2.0") return ("missing \"jsonrpc\": \"2.0\"", id);
            bool hasMethod = root.TryGetProperty("method", out var m);
            if (hasMethod && m.ValueKind != JsonValueKind.String) return ("\"method\" must be a string", id);
            if (!hasMethod && id == null) return ("neither a request, a notification nor a response", null);
            if (root.TryGetProperty("params", out var p) && p.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array or JsonValueKind.Null))
                return ("\"params\" must be an object or an array", id);
            return (null, id);
        }
        catch (JsonException e) { return ("parse error: " + e.Message.Split('.')[0], null); }
    }
}
