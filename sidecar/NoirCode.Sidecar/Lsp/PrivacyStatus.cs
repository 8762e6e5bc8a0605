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
    /// <summary>The language of the document just asked about, when the model does not know it (no suggestions).</summary>
    public string? UnsupportedLanguage { get; init; }
    /// <summary>The languages the model declares (null: any).</summary>
    public string[]? ModelLanguages { get; init; }
}

public sealed record LastRequest(long Tokens, long Bytes, double Milliseconds, string Source)
{
    /// <summary>Why the request got no suggestion (Completion.EmptyReason); null when it got one.</summary>
    public string? Empty { get; init; }
}
