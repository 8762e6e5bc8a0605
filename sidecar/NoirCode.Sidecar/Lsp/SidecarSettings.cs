using System.Text.Json;
using System.Text.Json.Nodes;
using NoirCode.Sidecar.Runtime;

namespace NoirCode.Sidecar.Lsp;

/// <summary>
/// The settings, read from initializationOptions and from each workspace/didChangeConfiguration: the editor's
/// `noircode` configuration section as it is (the fields of extension/package.json; a "noircode" or "noir" member
/// holding it, or the object itself). Each notification replaces the settings: they are read afresh from its section,
/// never merged with the previous one, so a setting the user cleared (sent as its default, null or "") is back at its
/// default. A field the section leaves out keeps its initializationOptions value: the VS Code extension sends every
/// field, test and benchmark clients send only what they change. Normalising is done here, not in the editor: blank
/// strings are unset, numbers are floored, and an unknown or bad value is its default. Fields the sidecar does not
/// know (sidecarPath, trace) are ignored.
/// </summary>
public sealed record SidecarSettings
{
    public string? ModelFolder { get; init; }
    public string[]? Endpoints { get; init; }
    /// <summary>The endpoint's API key, for LSP clients that put it in the settings; the VS Code extension never does
    /// (it puts the key in the sidecar's environment, NOIR_API_KEY, since clients may log their settings).</summary>
    public string? ApiKey { get; init; }
    public string? KeysFolder { get; init; }
    /// <summary>A whole model on this machine for what must not leave it: sensitive files, a spent budget with local-only.</summary>
    public string? LocalModelFolder { get; init; }
    /// <summary>"split" (default) or "local".</summary>
    public RuntimeMode Mode { get; init; } = RuntimeMode.Split;
    public string Wire { get; init; } = "f16";
    /// <summary>Tokens per period; null: the measured budget, or none.</summary>
    public long? ExposureBudgetTokens { get; init; }
    public string ExposurePeriod { get; init; } = "day";
    /// <summary>"block", "local-only" or "auto" (local-only under demo keys with a whole model at hand, else block) when the budget is spent (<see cref="Runtime.AtLimitPolicy"/>).</summary>
    public string AtLimit { get; init; } = "auto";
    /// <summary>Languages the user turned off by name in `enable` (`{"plaintext": false}`).</summary>
    public string[]? DisabledLanguages { get; init; }
    /// <summary>Languages the user turned on by name in `enable` (not through `*`): completed even when the model does not declare them.</summary>
    public string[]? EnabledLanguages { get; init; }
    /// <summary>Not a VS Code setting: tests and benchmarks keep completions short with it.</summary>
    public int MaxNewTokens { get; init; } = 64;
    /// <summary>Not a VS Code setting: prompt tokens around the cursor; null: the engine's default, cut to the window a
    /// tuned client was tuned on (<see cref="Runtime.LoadedRuntime.CompletionSettingsFor"/>).</summary>
    public int? MaxPromptTokens { get; init; }
    /// <summary>A fixed wait after a keystroke before the model is asked, in ms; null: adaptive.</summary>
    public int? DebounceMs { get; init; }
    /// <summary>Allow http:// to an endpoint on another machine (the API key is never sent over it).</summary>
    public bool AllowCleartextEndpoint { get; init; }
    /// <summary>Allow no privacy keys (ε = ∞) with an endpoint on another machine.</summary>
    public bool AllowUnprotectedEndpoint { get; init; }
    /// <summary>Speculative decoding (greedy, drafts from the prompt verified per round trip); false: one token per round trip.</summary>
    public bool SpeculativeDecoding { get; init; } = true;
    /// <summary>Not a VS Code setting: token healing at the cursor (Completion.TokenHealing); false only to measure without it.</summary>
    public bool TokenHealing { get; init; } = true;

    /// <summary>The settings <paramref name="element"/> describes; a field it lacks is read from <paramref name="initialization"/>
    /// (the initializationOptions), else it is its default. Never merged with an earlier change.</summary>
    public static SidecarSettings From(JsonElement? element, JsonElement? initialization = null)
    {
        var s = new SidecarSettings();
        var fields = new JsonObject();
        foreach (var source in new[] { initialization, element })
            if (Section(source) is { } section)
                foreach (var field in section.EnumerateObject()) fields[field.Name] = JsonNode.Parse(field.Value.GetRawText());
        var e = JsonSerializer.SerializeToElement(fields);
        string? Str(string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString()!.Trim() is { Length: > 0 } t ? t : null;
        bool? Bool(string name) => e.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;
        // Settings are JSON numbers: 5000.7 tokens is 5000.
        long? Whole(string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double d)
            && double.IsFinite(d) && Math.Abs(d) < 9e15 ? (long)Math.Floor(d) : null;
        string[]? Endpoints() => e.TryGetProperty("endpoint", out var v)
            ? v.ValueKind switch
            {
                JsonValueKind.String => v.GetString()!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                JsonValueKind.Array => v.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!.Trim()).Where(x => x.Length > 0).ToArray(),
                _ => null,
            } is { Length: > 0 } list ? list : null
            : null;
        // `enable`: {"*": true, "plaintext": false, "typescript": true}; `*` is the editor's own default.
        string[]? Named(bool on) => e.TryGetProperty("enable", out var v) && v.ValueKind == JsonValueKind.Object
            && v.EnumerateObject().Where(p => p.Name != "*" && p.Value.ValueKind == (on ? JsonValueKind.True : JsonValueKind.False))
                .Select(p => p.Name).Order(StringComparer.Ordinal).ToArray() is { Length: > 0 } names ? names : null;
        return s with
        {
            ModelFolder = Str("modelFolder"),
            Endpoints = Endpoints(),
            ApiKey = Str("apiKey"),
            KeysFolder = Str("keysFolder"),
            LocalModelFolder = Str("localModelFolder"),
            Mode = Str("mode") == "local" ? RuntimeMode.Local : RuntimeMode.Split,
            Wire = Str("wire") ?? s.Wire,
            ExposureBudgetTokens = Whole("exposureBudgetTokens") is > 0 and var b ? b : null,
            ExposurePeriod = Str("exposurePeriod") ?? s.ExposurePeriod,
            AtLimit = Str("atLimit") ?? s.AtLimit,
            DisabledLanguages = Named(false),
            EnabledLanguages = Named(true),
            MaxNewTokens = Whole("maxNewTokens") is > 0 and <= 4096 and var m ? (int)m : s.MaxNewTokens,
            MaxPromptTokens = Whole("maxPromptTokens") is >= 16 and <= 1_000_000 and var p ? (int)p : null,
            DebounceMs = Whole("debounceMs") is >= 0 and <= 10_000 and var d ? (int)d : null,
            AllowCleartextEndpoint = Bool("allowCleartextEndpoint") ?? false,
            AllowUnprotectedEndpoint = Bool("allowUnprotectedEndpoint") ?? false,
            SpeculativeDecoding = Bool("speculativeDecoding") ?? s.SpeculativeDecoding,
            TokenHealing = Bool("tokenHealing") ?? s.TokenHealing,
        };
    }

    /// <summary>The settings object: a "noircode" or "noir" member holding it, or the object itself.</summary>
    static JsonElement? Section(JsonElement? element)
    {
        if (element is not { ValueKind: JsonValueKind.Object } e) return null;
        foreach (var name in new[] { "noircode", "noir" })
            if (e.TryGetProperty(name, out var section) && section.ValueKind == JsonValueKind.Object) return section;
        return e;
    }
}
