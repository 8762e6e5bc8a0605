using NoirCode.Privacy.Egress;
using NoirCode.Privacy.Ledger;
using NoirCode.Remote;
using NoirCode.Sidecar.Completion;
using NoirCode.Sidecar.Runtime;
using StreamJsonRpc;

namespace NoirCode.Sidecar.Lsp.Features;

/// <summary>
/// textDocument/inlineCompletion, routed: a sensitive file to the whole model here or to nothing, a spent budget
/// to the whole model here with "local-only", an unreachable endpoint to offline (with a probe that notices when
/// it is back). Every empty answer is counted by its reason (noir/completionStats).
/// </summary>
public sealed class InlineCompletionFeature(ServerContext context) : ILanguageServerFeature
{
    /// <summary>The custom request for the completion counts: suggestions, and empty answers by reason.</summary>
    public const string StatsRequest = "noir/completionStats";
    static readonly InlineCompletionList Empty = new(Array.Empty<InlineCompletionItem>());
    readonly CompletionStats _stats = new();
    readonly SingleFlight _recoveryProbe = new();

    public void Register(FeatureRegistry registry) => registry.Capability("inlineCompletionProvider", new { });

    [JsonRpcMethod(StatsRequest)]
    public CompletionStatsSnapshot CompletionStatistics() => _stats.Snapshot();

    [JsonRpcMethod("textDocument/inlineCompletion")]
    public async Task<InlineCompletionList> InlineCompletion(InlineCompletionParams p, CancellationToken cancel)
    {
        string uri = ParamsCheck.Require(ParamsCheck.Require(ParamsCheck.Require(p, "params").TextDocument, "textDocument").Uri, "textDocument.uri");
        ParamsCheck.Valid(p.Position, "position");
        if (p.Context?.SelectedCompletionInfo is { } info) ParamsCheck.Valid(info.Range, "context.selectedCompletionInfo.range");
        var (list, emptyReason) = await InlineCompletionOrReason(p, uri, cancel);
        if (emptyReason != null) _stats.Empty(emptyReason);
        else _stats.Suggested();
        return list;
    }

    /// <returns>the items, and when there are none, why (an <see cref="EmptyReason"/>)</returns>
    async Task<(InlineCompletionList List, string? EmptyReason)> InlineCompletionOrReason(InlineCompletionParams p, string uri, CancellationToken cancel)
    {
        if (context.Documents.Get(uri) is not { } doc) return (Empty, EmptyReason.UnknownDocument);
        if (doc.TooLarge) return (Empty, EmptyReason.DocumentTooLarge);
        // Judged on the real file and the current text: a secret pasted in a moment ago counts.
        string? sensitive = context.Sensitive.Reason(uri, doc.Text);
        // The request keeps the runtime it starts with, whatever a settings change swaps in meanwhile.
        using var lease = await context.Runtimes.AcquireAsync(cancel);
        if (lease?.Runtime is not { } runtime) return (Empty, EmptyReason.NotLoaded);
        var settings = context.Settings;
        var engine = runtime.Engine;
        string? localReason = null;
        using var whole = sensitive != null && runtime.Model.Remote != null ? context.Runtimes.AcquireWholeModel(AtLimitPolicy.ForWholeModel(settings, runtime.Model)) : null;
        if (sensitive != null && runtime.Model.Remote != null)
        {
            // Nothing of a sensitive file goes to the endpoint: the whole model here completes it, or nothing does.
            if (whole == null)
            {
                context.Status.Publish(context.Status.For(runtime) with { Detail = $"sensitive file ({sensitive}): nothing is sent for it (set localModelFolder to complete it on this machine)", Last = context.Status.Current.Last });
                return (Empty, EmptyReason.SensitiveFile);
            }
            engine = whole.Runtime.Engine;
            localReason = $"sensitive file ({sensitive}): completed on this machine only, nothing sent";
        }
        // After the sensitive-file check: that nothing of a secret file is sent matters more than its language.
        if (LanguageGate.Refusal(doc.Language, runtime.DeclaredLanguages, settings.EnabledLanguages, settings.DisabledLanguages) is { } refusal)
        {
            if (refusal == EmptyReason.LanguageNotSupported)
                context.Status.Publish(context.Status.For(runtime) with { Detail = LanguageGate.Explain(doc.Language, runtime.DeclaredLanguages!), Last = context.Status.Current.Last, UnsupportedLanguage = doc.Language });
            return (Empty, refusal);
        }
        int offset = DocumentStore.Offset(doc.Text, p.Position);
        string prefix = doc.Text[..offset], suffix = doc.Text[offset..];
        // VS Code's suggest widget: complete as if its selected item were already inserted.
        if (p.Context?.SelectedCompletionInfo is { } selected)
            prefix = doc.Text[..DocumentStore.Offset(doc.Text, selected.Range.Start)] + selected.Text;
        var (result, refused) = await Complete(runtime, engine, new CompletionContext(prefix, suffix), cancel, explicitRequest: p.Context?.TriggerKind == 1, localReason);
        if (result?.Text is not { } text) return (Empty, refused ?? result?.EmptyReason ?? EmptyReason.Refused);
        if (result.CutMidLine) _stats.CutMidLine();
        var range = new Range(p.Position, p.Position);
        if (p.Context?.SelectedCompletionInfo is { } sel)
        {
            // The item replaces the selected completion's range, so it repeats the selection's text.
            text = sel.Text + text;
            range = sel.Range;
        }
        return (new InlineCompletionList(new[] { new InlineCompletionItem(text, range) }), null);
    }

    /// <param name="runtime">the runtime in use, whose traffic the status shows (<paramref name="engine"/> may be the whole model's)</param>
    /// <returns>the outcome, or null and why the model could not be asked (offline, budget, refused)</returns>
    async Task<(CompletionOutcome? Outcome, string? Refused)> Complete(LoadedRuntime runtime, CompletionEngine engine, CompletionContext completion, CancellationToken cancel, bool explicitRequest, string? localReason = null)
    {
        var before = runtime.Model.Remote?.Total ?? default;
        try
        {
            var outcome = await engine.CompleteAsync(completion, cancel, explicitRequest);
            var after = runtime.Model.Remote?.Total ?? default;
            long sent = after.Tokens - before.Tokens;
            _stats.Sent(sent);
            context.Status.Publish(context.Status.For(runtime) with
            {
                Detail = localReason ?? runtime.Description,
                Last = new LastRequest(sent, after.BytesUp - before.BytesUp, Math.Round(outcome.Elapsed.TotalMilliseconds, 1), outcome.Source) { Empty = outcome.EmptyReason },
            });
            return (outcome, null);
        }
        catch (EndpointUnavailableException e)
        {
            ServerContext.Log("endpoint unreachable; probing until it answers");
            context.Status.Publish(context.Status.For(runtime) with { Mode = PrivacyStatus.Offline, Detail = e.Message });
            StartRecoveryProbe(runtime);
            return (null, EmptyReason.Offline);
        }
        catch (ExposureBudgetExceededException e)
        {
            if (AtLimitPolicy.For(context.Settings, runtime.Model) == BudgetAction.LocalOnly && localReason == null)
            {
                using var whole = context.Runtimes.AcquireWholeModel(AtLimitPolicy.ForWholeModel(context.Settings, runtime.Model));
                if (whole != null)
                {
                    var outcome = await Complete(runtime, whole.Runtime.Engine, completion, cancel, explicitRequest, "exposure budget spent: completing on this machine only");
                    context.Status.Publish(context.Status.Current with { Mode = PrivacyStatus.Local });
                    return outcome;
                }
            }
            context.Status.Publish(context.Status.For(runtime) with { Mode = PrivacyStatus.Blocked, Detail = e.Message });
            return (null, EmptyReason.Budget);
        }
        catch (Exception e) when (e is EndpointRequestException or EgressRejectedException)
        {
            ServerContext.Log($"completion refused: {e.GetType().Name}");
            context.Status.Publish(context.Status.For(runtime) with { Mode = PrivacyStatus.Error, Detail = e.Message });
            return (null, EmptyReason.Refused);
        }
    }

    /// <summary>
    /// Offline: probe the endpoints' health (nothing of the user's is sent) and leave the offline mode when one
    /// answers. A newer probe, or the runtime being swapped out, stops it.
    /// </summary>
    void StartRecoveryProbe(LoadedRuntime runtime)
    {
        if (runtime.Model.Remote is not { } remote) return;
        var endpoints = remote.Endpoints;
        var probe = _recoveryProbe.Begin(runtime.Retired);
        _ = Task.Run(async () =>
        {
            using (probe)
            {
                var back = await EndpointProbe.WaitUntilUpAsync(endpoints, probe.Token);
                if (back == null || probe.Token.IsCancellationRequested || context.Status.Current.Mode != PrivacyStatus.Offline) return;
                using var lease = context.Runtimes.TryAcquire();
                if (lease?.Runtime != runtime) return;
                ServerContext.Log("endpoint reachable again");
                context.Status.Publish(context.Status.For(runtime) with { Detail = "endpoint reachable again; " + runtime.Description });
            }
        });
    }
}
