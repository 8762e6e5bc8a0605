using NoirCode.Core.Generation;

namespace NoirCode.Sidecar.Completion;

/// <summary>How the engine completes: prompt and suggestion sizes, latency budgets, debounce, speculation, healing.</summary>
public sealed record CompletionSettings
{
    public int MaxPromptTokens { get; init; } = 768;
    /// <summary>Share of the prompt budget the suffix may take.</summary>
    public double SuffixShare { get; init; } = 0.25;
    public int MaxNewTokens { get; init; } = 64;
    /// <summary>Multi-line only if the model ends the block within this time; after it, the suggestion is its first
    /// line (Copilot's mean is under 200 ms; people give up on ghost text above about 700 ms).</summary>
    public TimeSpan NewlineCutoff { get; init; } = TimeSpan.FromMilliseconds(150);
    /// <summary>A line still running after this much decoding is shown as it is (prefill excluded, so a cold prompt
    /// still gets some text).</summary>
    public TimeSpan MaxDecodeTime { get; init; } = TimeSpan.FromMilliseconds(300);
    /// <summary>A fixed wait before a model call; null: adaptive (see <see cref="AdaptiveDebounce"/>).</summary>
    public TimeSpan? Debounce { get; init; }
    /// <summary>Verify tokens drafted from the prompt and recent suggestions several per round trip (the same
    /// suggestion, fewer round trips; rejected drafts are sent and charged too); null: one token per round trip.</summary>
    public SpeculationOptions? Speculation { get; init; } = new();
    /// <summary>Leave the prefix's last token out and have the model spell it again (<see cref="TokenHealing"/>).</summary>
    public bool TokenHealing { get; init; } = true;
}
