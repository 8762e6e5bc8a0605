namespace NoirCode.Sidecar.Lsp;

/// <summary>The noir/privacyStatus notification: what the status bar shows. Metadata only, never code.</summary>
public sealed record PrivacyStatus
{
    public const string Split = "split", Local = "local", Offline = "offline", Blocked = "blocked", Loading = "loading", Error = "error";
    public required string Mode { get; init; }
    public string? Detail { get; init; }
    public double? Epsilon { get; init; }
    public long ExposureUsed { get; init; }
    public long? ExposureLimit { get; init; }
    /// <summary>"demo", a key set's label, or "none".</summary>
    public string KeyLabel { get; init; } = "none";
    public bool Demo { get; init; }
    public double? KeyAgeDays { get; init; }
    public string? Endpoint { get; init; }
    public LastRequest? Last { get; init; }
}

public sealed record LastRequest(long Tokens, long Bytes, double Milliseconds, string Source);
