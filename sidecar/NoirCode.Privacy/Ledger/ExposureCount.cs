namespace NoirCode.Privacy.Ledger;

/// <summary>Tokens, bytes and requests sent to the cloud.</summary>
public readonly record struct ExposureCount(long Tokens, long Bytes, long Requests)
{
    public static ExposureCount operator +(ExposureCount a, ExposureCount b) => new(a.Tokens + b.Tokens, a.Bytes + b.Bytes, a.Requests + b.Requests);
}
