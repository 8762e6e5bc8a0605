using NoirCode.Privacy.Ledger;
using NoirCode.Remote;
using NoirCode.STuning;

namespace NoirCode.Sidecar.Lsp.Features;

/// <summary>
/// The re-tune of a rotation: STuning of the re-keyed shard on the workspace's code (never its secret files)
/// against the new key's fresh adapter, charged to the new key and held to half of what its budget has left,
/// so completions keep the other half. A re-tune that cannot run leaves the rotation done and says why.
/// </summary>
public static class RotationRetune
{
    /// <summary>Samples per re-tune step and tokens per sample; each sample's tokens cross twice (hidden states up,
    /// the boundary gradient up), and both are charged.</summary>
    const int Batch = 2, Sequence = 128;
    const long TokensPerStep = 2L * Batch * Sequence;

    public static async Task<RotateKeysResult> Run(ServerContext context, RotateKeysResult result, int steps, ModelRuntime runtime,
        Core.Util.IProgressSink progress, CancellationToken cancel)
    {
        if (runtime.RemoteOptions is not { } endpoint) return result with { RetuneNote = "not re-tuned: this runtime has no endpoint to train the new key's adapter" };
        if (context.Root is not { } root) return result with { RetuneNote = "not re-tuned: there is no workspace folder with code to tune on" };
        var ledger = context.Ledger.Value;
        var newKeys = Privacy.Keys.PrivacyKeys.ReadMetadata(result.KeysFolder);
        var measured = MeasuredBudget.ForKeys(newKeys, null, result.KeysFolder, result.ClientFolder, runtime.PublicModelFolder);
        var budget = context.Settings.ExposureBudgetTokens is long t ? new ExposureBudget(t, BudgetPeriod.Key) : measured?.Budget.ToBudget(BudgetAction.Block);
        string? note = null;
        if (budget != null)
        {
            long half = (budget.TokensPerPeriod - budget.Evaluate(ledger, newKeys.KeyId).UsedTokens) / 2;
            if (half / TokensPerStep < steps)
            {
                note = $"re-tune held to {half / TokensPerStep} of {steps} steps: half of the new key's budget ({budget.TokensPerPeriod:N0} tokens) at {TokensPerStep} tokens a step";
                steps = (int)(half / TokensPerStep);
            }
            if (steps == 0) return result with { RetuneNote = $"not re-tuned: one step ({TokensPerStep} tokens) does not fit in half of the new key's budget ({budget.TokensPerPeriod:N0} tokens)" };
        }
        try
        {
            string ledgerFolder = ExposureLedger.DefaultFolder();
            var sensitive = context.Sensitive;
            var retune = await Task.Run(() => Retune.Run(result.ClientFolder!, result.KeysFolder, endpoint, root,
                new TuneSettings(steps, Batch, Sequence, 5e-4), ledger, WorkspaceIds.For(ledgerFolder, root), budget, progress,
                mayTuneOn: (path, text) => !sensitive.IsSensitive(new Uri(path).AbsoluteUri, text)), cancel);
            ServerContext.Log($"re-tuned {retune.Steps} steps under the new keys: {retune.TokensSent} tokens sent");
            return result with { RetunedSteps = retune.Steps, RetuneTokensSent = retune.TokensSent, RetuneNote = note };
        }
        catch (Exception e) when (e is IOException or ArgumentException or EndpointUnavailableException or EndpointRequestException or ExposureBudgetExceededException)
        {
            ServerContext.Log($"re-tune failed: {e.GetType().Name}");
            return result with { RetuneNote = "not re-tuned: " + e.Message };
        }
    }
}
