namespace NoirCode.Sidecar.Completion;

/// <summary>Where the suffix goes in a fill-in-the-middle prompt.</summary>
public enum FimOrder
{
    /// <summary>[SUF] suffix [PRE] prefix [MID]: the prefix ends right before the answer, so a keystroke at the
    /// cursor changes only the prompt's end and the session's KV cache stays reusable (inline completion).</summary>
    SuffixPrefixMiddle,
    /// <summary>[PRE] prefix [SUF] suffix [MID] (Generate Function: one request, nothing to reuse).</summary>
    PrefixSuffixMiddle,
}
