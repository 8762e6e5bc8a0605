using NoirCode.Privacy.Ledger;
using NoirCode.Sidecar.Runtime;
using StreamJsonRpc;

namespace NoirCode.Sidecar.Lsp;

/// <summary>
/// The noir/privacyStatus notification: what runs where, under which keys, the exposure so far against its
/// budget, and what the last request cost. Counts and names, never code.
/// </summary>
public sealed class PrivacyStatusPublisher(JsonRpc rpc, Func<SidecarSettings> settings, Lazy<ExposureLedger> ledger)
{
    public const string Notification = "noir/privacyStatus";
    volatile PrivacyStatus _current = new() { Mode = PrivacyStatus.Loading, Detail = "starting" };

    /// <summary>The status last sent.</summary>
    public PrivacyStatus Current => _current;

    public void Publish(PrivacyStatus status)
    {
        _current = status;
        _ = rpc.NotifyWithParameterObjectAsync(Notification, status);
    }

    /// <summary>The status of <paramref name="runtime"/> (null: none loaded yet), its exposure and budget as they are now.</summary>
    public PrivacyStatus For(LoadedRuntime? runtime)
    {
        var s = settings();
        var model = runtime?.Model;
        string mode = runtime == null ? PrivacyStatus.Loading : runtime.Mode == RuntimeMode.Local ? PrivacyStatus.Local : PrivacyStatus.Split;
        var keys = model?.Keys;
        var budget = ExposureBudgets.For(s, model);
        long used = 0;
        long? previous = null;
        // Tokens sent under this key (or without keys) in the budget's period (a day without a budget).
        if (model?.Remote != null && model.Guard is { } guard)
        {
            used = (budget ?? new ExposureBudget(long.MaxValue)).Evaluate(ledger.Value, guard.KeyId).UsedTokens;
            if (model.KeysFolder != null && KeyRotation.PreviousKeyId(model.KeysFolder) is { } before)
                previous = ledger.Value.Sum(k => k.Key == before).Tokens;
        }
        var measured = model?.MeasuredBudget?.Budget;
        return new PrivacyStatus
        {
            // k homophonic tables at ε each spend k·ε.
            Mode = mode, Epsilon = keys?.TotalEpsilon, ExposureUsed = used, ExposureLimit = budget?.TokensPerPeriod,
            ExposureBasis = budget == null ? "none" : s.ExposureBudgetTokens != null ? "setting" : "measured",
            ExposurePeriod = (budget?.Period ?? BudgetPeriod.Day).ToString().ToLowerInvariant(),
            ExposureMeaning = measured?.Meaning(),
            ExposureCurve = measured?.Curve.Select(p => new VolumePointStatus(p.Tokens, p.ContentRecovered)).ToArray(),
            PreviousKeyTokens = previous,
            KeyLabel = keys == null ? "none" : keys.Demo ? "demo" : keys.Label, Demo = keys?.Demo ?? false,
            KeyAgeDays = keys == null ? null : Math.Round(keys.Age(DateTimeOffset.UtcNow).TotalDays, 1),
            Endpoint = model?.Remote?.LastEndpoint?.ToString() ?? s.Endpoints?.FirstOrDefault(),
            ModelLanguages = runtime?.DeclaredLanguages?.Order(StringComparer.Ordinal).ToArray(),
        };
    }

    /// <summary>The status of the runtime in use, keeping the detail and last request shown.</summary>
    public PrivacyStatus Refreshed(LoadedRuntime? runtime) => For(runtime) with { Detail = _current.Detail, Last = _current.Last };
}
