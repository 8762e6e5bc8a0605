using NoirCode.Core.Generation;

namespace NoirCode.Sidecar.Completion;

/// <summary>How the engine completes: prompt and suggestion sizes, latency budgets, debounce, speculation, healing.</summary>
public sealed record CompletionSettings
{
    public int MaxPromptTokens { get; init; } = 768;
    /// <summary>Share of the prompt budget the suffix may take.</summary>
    public double SuffixShare { get; init; } = 0.25;
    public int MaxNewTokens { get; init; } = 64;
    /// <summary>Multi-line only if the model ends the block within this time of the request; after it, the suggestion
    /// is its first line, whole (Copilot's mean is under 200 ms).</summary>
    public TimeSpan NewlineCutoff { get; init; } = TimeSpan.FromMilliseconds(150);
    /// <summary>A line still running this long after the request is shown as it is: no round trip starts that would
    /// end later (people give up on ghost text above about 700 ms). Counted from the request, not per token, so a far
    /// endpoint spends its round trips finishing the line rather than being cut after a few tokens.</summary>
    public TimeSpan ShowBy { get; init; } = TimeSpan.FromMilliseconds(600);
    /// <summary>A fixed wait before a model call; null: adaptive (see <see cref="AdaptiveDebounce"/>).</summary>
    public TimeSpan? Debounce { get; init; }
    /// <summary>Verify tokens drafted from the prompt and recent suggestions several per round trip (the same
    /// suggestion, fewer round trips; rejected drafts are sent and charged too); null: one token per round trip.</summary>
    public SpeculationOptions? Speculation { get; init; } = new();
    /// <summary>Leave the prefix's last token out and have the model spell it again (<see cref="TokenHealing"/>).</summary>
    public bool TokenHealing { get; init; } = true;

    /// <summary>The prompt for a client tuned on <paramref name="window"/>-token sequences: its prompt and the three
    /// control tokens fill the window, where a keyed decoder has read its keys' rows. On the demo client (window 256) it
    /// measured as good as 768 tokens (invoked edit similarity +0.018, +0.018 and −0.008 in three runs; keeping the
    /// suggestion inside the window too, at 189, gained less) at a third of the tokens a file's first request sends.</summary>
    public static int PromptTokensWithin(int window) => Math.Max(16, window - 3);
}
