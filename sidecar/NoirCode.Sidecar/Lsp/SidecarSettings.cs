using System.Text.Json;
using NoirCode.Sidecar.Runtime;

namespace NoirCode.Sidecar.Lsp;

/// <summary>
/// Settings from initializationOptions and workspace/didChangeConfiguration (a "noir" section or the object
/// itself). Unknown fields are ignored; a bad value is reported in the status and the default kept.
/// </summary>
public sealed record SidecarSettings
{
    public string? ModelFolder { get; init; }
    public string[]? Endpoints { get; init; }
    /// <summary>The endpoint's API key, handed over by the editor from its secret storage.</summary>
    public string? ApiKey { get; init; }
    public string? KeysFolder { get; init; }
    /// <summary>A whole model on this machine for what must not leave it: sensitive files, a spent budget with local-only.</summary>
    public string? LocalModelFolder { get; init; }
    /// <summary>"split" (default) or "local"; another value keeps the mode as it was.</summary>
    public RuntimeMode Mode { get; init; } = RuntimeMode.Split;
    public string Wire { get; init; } = "f16";
    public long? ExposureBudgetTokens { get; init; }
    public string ExposurePeriod { get; init; } = "day";
    /// <summary>"block" or "local-only" when the budget is spent.</summary>
    public string AtLimit { get; init; } = "block";
    public string[]? DisabledLanguages { get; init; }
    /// <summary>Languages the user enabled by name: completed even when the model does not declare them.</summary>
    public string[]? EnabledLanguages { get; init; }
    public int MaxNewTokens { get; init; } = 64;
    /// <summary>A fixed wait after a keystroke before the model is asked, in ms; null: adaptive.</summary>
    public int? DebounceMs { get; init; }
    /// <summary>Allow http:// to an endpoint on another machine (the API key is never sent over it).</summary>
    public bool AllowCleartextEndpoint { get; init; }
    /// <summary>Allow no privacy keys (ε = ∞) with an endpoint on another machine.</summary>
    public bool AllowUnprotectedEndpoint { get; init; }
    /// <summary>Speculative decoding (greedy, drafts from the prompt verified per round trip); false: one token per round trip.</summary>
    public bool SpeculativeDecoding { get; init; } = true;
    /// <summary>Token healing at the cursor (Completion.TokenHealing); false only to measure without it.</summary>
    public bool TokenHealing { get; init; } = true;

    public static SidecarSettings From(JsonElement? element, SidecarSettings? current = null)
    {
        var s = current ?? new SidecarSettings();
        if (element is not { ValueKind: JsonValueKind.Object } e) return s;
        if (e.TryGetProperty("noir", out var section) && section.ValueKind == JsonValueKind.Object) e = section;
        string? Str(string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        string[]? Strings(string name) => e.TryGetProperty(name, out var v)
            ? v.ValueKind switch
            {
                JsonValueKind.String => v.GetString()!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                JsonValueKind.Array => v.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!).ToArray(),
                _ => null,
            } : null;
        bool? Bool(string name) => e.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;
        long? Long(string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out long l) ? l : null;
        return s with
        {
            ModelFolder = Str("modelFolder") ?? s.ModelFolder,
            Endpoints = Strings("endpoint") is { Length: > 0 } ep ? ep : s.Endpoints,
            ApiKey = Str("apiKey") ?? s.ApiKey,
            KeysFolder = Str("keysFolder") ?? s.KeysFolder,
            LocalModelFolder = Str("localModelFolder") ?? s.LocalModelFolder,
            Mode = Str("mode") switch { "split" => RuntimeMode.Split, "local" => RuntimeMode.Local, _ => s.Mode },
            Wire = Str("wire") ?? s.Wire,
            ExposureBudgetTokens = Long("exposureBudgetTokens") ?? s.ExposureBudgetTokens,
            ExposurePeriod = Str("exposurePeriod") ?? s.ExposurePeriod,
            AtLimit = Str("atLimit") ?? s.AtLimit,
            DisabledLanguages = Strings("disabledLanguages") ?? s.DisabledLanguages,
            EnabledLanguages = Strings("enabledLanguages") ?? s.EnabledLanguages,
            MaxNewTokens = (int)(Long("maxNewTokens") ?? s.MaxNewTokens),
            DebounceMs = Long("debounceMs") is long d && d is >= 0 and <= 10_000 ? (int)d : s.DebounceMs,
            AllowCleartextEndpoint = Bool("allowCleartextEndpoint") ?? s.AllowCleartextEndpoint,
            AllowUnprotectedEndpoint = Bool("allowUnprotectedEndpoint") ?? s.AllowUnprotectedEndpoint,
            SpeculativeDecoding = Bool("speculativeDecoding") ?? s.SpeculativeDecoding,
            TokenHealing = Bool("tokenHealing") ?? s.TokenHealing,
        };
    }
}
