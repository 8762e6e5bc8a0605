namespace NoirCode.Sidecar.Completion;

/// <summary>What a completion request produced, with what it cost.</summary>
public sealed record CompletionOutcome(string? Text, string Source, int TokensSent, TimeSpan Elapsed)
{
    /// <summary>Why there is no text (<see cref="Completion.EmptyReason"/>); null when there is.</summary>
    public string? EmptyReason { get; init; }
    /// <summary>The deadline (<see cref="CompletionSettings.ShowBy"/>) cut the suggestion before its line ended.</summary>
    public bool CutMidLine { get; init; }

    public const string Model = "model", Cache = "cache", TypeThrough = "type-through", Cancelled = "cancelled";
}
