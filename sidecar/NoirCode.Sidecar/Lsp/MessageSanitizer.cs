using System.IO.Pipelines;
using System.Text.Json;

namespace NoirCode.Sidecar.Lsp;

/// <summary>
/// Stands between the stdio streams and the JSON-RPC engine. StreamJsonRpc drops the connection on a message it
/// cannot parse; an editor's language server must not. Each incoming frame is checked (size, JSON, jsonrpc 2.0,
/// params shape); a bad one is answered here with a JSON-RPC error (its id when it has one, else null) and not
/// passed on. Outgoing messages are forwarded frame by frame, so an error frame never lands inside another.
/// Responses from the client pass only when they answer a request the server sent and still awaits (StreamJsonRpc
/// drops the connection on any other); others are dropped without a reply, as JSON-RPC never answers a response.
/// </summary>
public sealed class MessageSanitizer
{
    readonly Stream _stdin, _stdout;
    readonly Pipe _incoming = new(), _outgoing = new();
    readonly SemaphoreSlim _write = new(1, 1);
    /// <summary>Ids (raw JSON) of the server's requests to the client that have not been answered yet.</summary>
    readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _awaitingReplies = new();
    const string Dropped = "dropped";

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
                else if (reason == Dropped) Console.Error.WriteLine("noir-lsp: dropped a response to no request of ours");
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
            while (await framing.ReadAsync() is { } body)
            {
                if (OutgoingRequestId(body) is { } id) _awaitingReplies[id] = 0;
                await WriteFrame(body);
            }
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

    static string? OutgoingRequestId(byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.TryGetProperty("method", out _) && doc.RootElement.TryGetProperty("id", out var id) ? id.GetRawText() : null;
        }
        catch (JsonException) { return null; }
    }

    /// <returns>why the message is refused (null: it is fine; <see cref="Dropped"/>: drop it unanswered), and its id if one could be read</returns>
    (string? Reason, JsonElement? Id) Check(byte[] body)
    {
        if (body.Length == 0) return ("empty, oversized or unframed message", null);
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return ("a JSON-RPC message must be an object", null);
            bool hasId = root.TryGetProperty("id", out var i);
            // StreamJsonRpc takes ids that are strings, integers or null; anything else ends its connection.
            JsonElement? id = hasId && (i.ValueKind == JsonValueKind.String || i.ValueKind == JsonValueKind.Number && i.TryGetInt64(out _)) ? i.Clone() : null;
            if (hasId && id == null && i.ValueKind != JsonValueKind.Null) return ("\"id\" must be a string, an integer or null", null);
            if (!root.TryGetProperty("jsonrpc", out var v) || v.ValueKind != JsonValueKind.String || v.GetString() != "2.0") return ("missing \"jsonrpc\": \"2.0\"", id);
            bool hasMethod = root.TryGetProperty("method", out var m);
            if (hasMethod && m.ValueKind != JsonValueKind.String) return ("\"method\" must be a string", id);
            if (!hasMethod && id == null) return ("neither a request, a notification nor a response", null);
            if (!hasMethod)
            {
                // A response: exactly one of result and error, and an error with an integer code and a message.
                bool hasResult = root.TryGetProperty("result", out _), hasError = root.TryGetProperty("error", out var error);
                if (hasResult == hasError) return (Dropped, null);
                if (hasError && (error.ValueKind != JsonValueKind.Object || !error.TryGetProperty("code", out var code) || code.ValueKind != JsonValueKind.Number
                    || !code.TryGetInt32(out _) || !error.TryGetProperty("message", out var text) || text.ValueKind != JsonValueKind.String))
                    return (Dropped, null);
                if (!_awaitingReplies.TryRemove(id!.Value.GetRawText(), out _)) return (Dropped, null);
            }
            if (root.TryGetProperty("params", out var p) && p.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array or JsonValueKind.Null))
                return ("\"params\" must be an object or an array", id);
            return (null, id);
        }
        catch (JsonException e) { return ("parse error: " + e.Message.Split('.')[0], null); }
    }
}
