namespace NoirCode.Privacy.Ledger;

/// <summary>
/// A block of tokens (and their bytes) charged to the ledger before they are sent, then consumed send by send, and
/// settled at the end with the true count. The reservation is durable (fsynced) before the first of its tokens
/// leaves, so a kill -9 never loses a charge: the unsettled block stays charged in full, an over-count of at most
/// its unused rest. Settling refunds only what was reserved and never sent.
/// </summary>
public sealed class ExposureReservation
{
    readonly ExposureLedger _ledger;
    public string Id { get; }
    public string WorkspaceId { get; }
    public string KeyId { get; }
    public DateTimeOffset At { get; }
    public long Tokens { get; }
    public long Bytes { get; }
    public long UsedTokens { get; private set; }
    public long UsedBytes { get; private set; }
    public long Requests { get; private set; }
    public bool Settled { get; private set; }
    /// <summary>Reserved tokens not yet sent.</summary>
    public long Left => Settled ? 0 : Tokens - UsedTokens;

    internal ExposureReservation(ExposureLedger ledger, string id, string workspaceId, string keyId, long tokens, long bytes, DateTimeOffset at)
    {
        _ledger = ledger; Id = id; WorkspaceId = workspaceId; KeyId = keyId; Tokens = tokens; Bytes = bytes; At = at;
    }

    /// <summary>Takes one send's tokens from the block; false when the block cannot cover them (reserve another).</summary>
    public bool TryConsume(long tokens, long bytes)
    {
        if (tokens < 0 || bytes < 0) throw new ArgumentOutOfRangeException(nameof(tokens));
        if (Settled || tokens > Left || UsedBytes + bytes > Bytes) return false;
        UsedTokens += tokens; UsedBytes += bytes; Requests++;
        return true;
    }

    /// <summary>Records the true count (durable when it returns); the block can be used no more.</summary>
    public void Settle()
    {
        if (Settled) return;
        Settled = true;
        _ledger.Settle(this);
    }
}
