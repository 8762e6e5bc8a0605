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
    /// <summary>Where the limit comes from: "measured" (the privacy report's curve for this configuration), "setting"
    /// (noir.exposureBudgetTokens), or "none".</summary>
    public string ExposureBasis { get; init; } = "none";
    /// <summary>"key" (the key's whole life: what the measured curve counts), "day", "week" or "month".</summary>
    public string ExposurePeriod { get; init; } = "day";
    /// <summary>What crossing the measured budget means, from the curve (null without a measured budget).</summary>
    public string? ExposureMeaning { get; init; }
    /// <summary>The measured curve: tokens seen under one key → share of content tokens the strongest attack read.</summary>
    public VolumePointStatus[]? ExposureCurve { get; init; }
    /// <summary>Tokens sent under the keys these keys replaced (a rotation's record): their cipher is retired, but what
    /// the cloud read of it stays read.</summary>
    public long? PreviousKeyTokens { get; init; }
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

public sealed record VolumePointStatus(long Tokens, double ContentRecovered);

public sealed record LastRequest(long Tokens, long Bytes, double Milliseconds, string Source)
{
    /// <summary>Why the request got no suggestion (Completion.EmptyReason); null when it got one.</summary>
    public string? Empty { get; init; }
}
