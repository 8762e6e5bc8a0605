using NoirCode.Core.Generation;
using NoirCode.Sidecar.Completion;
using NoirCode.Sidecar.Lsp;

namespace NoirCode.Sidecar.Runtime;

/// <summary>
/// A runtime ready to serve: the model, its completion engine, the languages it declares, and what has to live
/// exactly as long as it (the embedded endpoint its middle blocks run on). Made whole, swapped whole
/// (<see cref="RuntimeSlot"/>) and disposed in one place, so nothing of an old configuration outlives it.
/// </summary>
public sealed class LoadedRuntime : IDisposable
{
    readonly IDisposable? _endpoint;
    readonly CancellationTokenSource _retired = new();

    public ModelRuntime Model { get; }
    public CompletionEngine Engine { get; }
    public RuntimeMode Mode { get; }
    /// <summary>How it runs, in words, for the status.</summary>
    public string Description => Model.Mode;
    /// <summary>The languages the model declares: the client folder's, else those of the public model it comes from.</summary>
    public IReadOnlySet<string>? DeclaredLanguages { get; }
    /// <summary>Cancelled when the runtime is swapped out: work on its behalf (the offline probe) stops.</summary>
    public CancellationToken Retired { get; }

    /// <param name="endpoint">what serves this runtime's middle blocks and goes with it (the embedded endpoint)</param>
    public LoadedRuntime(ModelRuntime model, RuntimeMode mode, SidecarSettings settings, IDisposable? endpoint = null)
    {
        Model = model; Mode = mode; _endpoint = endpoint; Retired = _retired.Token;
        if (model.Guard != null) model.Guard.Budget = ExposureBudgets.For(settings, model); // the guard enforces it on every packet
        // Each request's exposure is charged ahead and settled exactly after it.
        Engine = new CompletionEngine(model.Session, model.Tokenizer, model.MaxPositions, CompletionSettingsFor(settings, model.TunedWindow), model.Guard is { } guard ? guard.Settle : null);
        DeclaredLanguages = ModelLanguages.Declared(model.ModelFolder) ?? ModelLanguages.Declared(model.PublicModelFolder);
    }

    /// <param name="tunedWindow">the window a keyed client was tuned on: unless the settings say otherwise, its prompt is
    /// cut to fit it (<see cref="CompletionSettings.PromptTokensWithin"/>)</param>
    public static CompletionSettings CompletionSettingsFor(SidecarSettings s, int? tunedWindow)
    {
        var defaults = new CompletionSettings();
        return defaults with
        {
            MaxNewTokens = s.MaxNewTokens,
            Debounce = s.DebounceMs is int ms ? TimeSpan.FromMilliseconds(ms) : null,
            Speculation = s.SpeculativeDecoding ? new SpeculationOptions() : null,
            TokenHealing = s.TokenHealing,
            MaxPromptTokens = s.MaxPromptTokens
                ?? (tunedWindow is int window ? Math.Min(defaults.MaxPromptTokens, CompletionSettings.PromptTokensWithin(window)) : defaults.MaxPromptTokens),
        };
    }

    /// <summary>Settings that change while the model stays loaded: the engine's, and the budget.</summary>
    public void Apply(SidecarSettings settings)
    {
        Engine.UpdateSettings(CompletionSettingsFor(settings, Model.TunedWindow));
        if (Model.Guard is { } guard) guard.Budget = ExposureBudgets.For(settings, Model);
    }

    internal void Retire() => _retired.Cancel();

    public void Dispose()
    {
        _retired.Cancel();
        Engine.Dispose(); // the session with it
        Model.Guard?.Dispose();
        _endpoint?.Dispose();
    }
}
