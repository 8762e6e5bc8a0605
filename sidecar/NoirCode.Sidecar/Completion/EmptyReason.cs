namespace NoirCode.Sidecar.Completion;

/// <summary>
/// Why an inline completion request got no suggestion. Every empty answer carries one, so the sidecar can count
/// them (<see cref="CompletionStats"/>) and a benchmark can say what to fix. Names, never code.
/// </summary>
public static class EmptyReason
{
    // What the model did.
    /// <summary>The model's first token ended the middle (end-of-text): it proposed nothing.</summary>
    public const string ModelEndedAtOnce = "model ended at once";
    /// <summary>A stop string (a run of blank lines) came before any text.</summary>
    public const string StopRule = "stop rule";
    /// <summary>The decoding time cap passed before any text.</summary>
    public const string Timeout = "timeout";
    /// <summary>A newer request (a keystroke) replaced this one.</summary>
    public const string Cancelled = "cancelled";

    /// <summary>A post-processing rule removed all the text; the rule is named after the colon.</summary>
    public const string PostProcessingPrefix = "post-processing: ";
    public static string PostProcessing(string rule) => PostProcessingPrefix + rule;

    // Why the model was not asked.
    public const string UnknownDocument = "document not open";
    /// <summary>The document is over the size limit (<see cref="Lsp.DocumentStore.MaxDocumentChars"/>): its text is not kept.</summary>
    public const string DocumentTooLarge = "document too large";
    public const string LanguageDisabled = "language disabled";
    public const string LanguageNotSupported = "language not supported by the model";
    public const string SensitiveFile = "sensitive file";
    public const string NotLoaded = "model not loaded";
    public const string Offline = "endpoint offline";
    public const string Budget = "exposure budget spent";
    public const string Refused = "refused (error)";
}
