using NoirCode.Core.Model;

namespace NoirCode.Endpoint;

/// <summary>One client's generation session: its KV cache for the middle blocks and its limits.</summary>
public sealed class ServerSession
{
    public required string Id { get; init; }
    public required string Tenant { get; init; }
    public required int MaxLength { get; init; }
    public required KvCache Cache { get; init; }
    public required long ReservedBytes { get; init; }
    public required Protocol.WireDtype ReplyDtype { get; init; }
    /// <summary>The tenant's adapter this session runs with (OpenSession.adapter_id; empty: the unnamed one).</summary>
    public string AdapterId { get; set; } = "";
    /// <summary>Cancelled when the session expires, so its stream ends.</summary>
    public CancellationTokenSource Expiry { get; } = new();
    public long LastActiveTicks { get; set; } = Environment.TickCount64;
    /// <summary>Set when the session closes; queued work for it is dropped rather than run on a freed cache.</summary>
    public volatile bool Closed;
    /// <summary>Positions held; read and written on the model worker only.</summary>
    public long Length => Cache.Length;
}
