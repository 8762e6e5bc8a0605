namespace NoirCode.Sidecar.Completion;

/// <summary>
/// Whether to complete a document of a given language: not when the user disabled it, nor when the model declares
/// the languages it knows (<see cref="ModelLanguages"/>) and this is not one of them, unless the user enabled it.
/// A small model asked about a language it never saw writes noise that looks like a suggestion.
/// </summary>
public static class LanguageGate
{
    /// <returns>null to complete, otherwise the <see cref="EmptyReason"/></returns>
    public static string? Refusal(string languageId, IReadOnlySet<string>? modelLanguages, IReadOnlyCollection<string>? userEnabled, IReadOnlyCollection<string>? userDisabled)
    {
        string id = languageId.ToLowerInvariant();
        if (userDisabled?.Contains(id, StringComparer.OrdinalIgnoreCase) == true) return EmptyReason.LanguageDisabled;
        if (modelLanguages == null || modelLanguages.Contains(id)) return null;
        return userEnabled?.Contains(id, StringComparer.OrdinalIgnoreCase) == true ? null : EmptyReason.LanguageNotSupported;
    }

    /// <summary>What the status says when a language is not supported (names of languages only).</summary>
    public static string Explain(string languageId, IReadOnlySet<string> modelLanguages) =>
        $"no suggestions for {languageId}: the model knows {string.Join(", ", modelLanguages.Order(StringComparer.Ordinal))} only "
        + $"(enable {languageId} in the noircode.enable setting to try it anyway)";
}
