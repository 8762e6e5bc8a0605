using System.Diagnostics;
using System.Text.Json;
using NoirCode.Core.Generation;
using NoirCode.Privacy.Egress;
using NoirCode.Privacy.Ledger;
using NoirCode.Remote;
using NoirCode.Sidecar.Completion;
using StreamJsonRpc;

namespace NoirCode.Sidecar.Lsp;

/// <summary>
/// The sidecar as a language server over stdio: document sync, textDocument/inlineCompletion,
/// workspace/executeCommand noir.generateFunction, configuration, and the noir/privacyStatus notification.
/// Logs (stderr) carry events and counts, never code.
/// </summary>
public sealed class NoirLanguageServer : IDisposable
{
    public const string GenerateFunctionCommand = "noir.generateFunction";
    /// <summary>The custom request for the completion counts: suggestions, and empty answers by reason.</summary>
    public const string CompletionStatsRequest = "noir/completionStats";
    readonly JsonRpc _rpc;
    readonly DocumentStore _documents = new();
    readonly TaskCompletionSource _exit = new();
    readonly Func<SidecarSettings, Core.Util.IProgressSink, ModelRuntime> _runtimeFactory;
    bool _clientShowsProgress;
    int _initializeCount, _initializedCount;
    SidecarSettings _settings = new();
    SensitiveFiles _sensitive = new();
    string? _root;
    ModelRuntime? _runtime;
    CompletionEngine? _engine;
    Task? _loading;
    PrivacyStatus _status = new() { Mode = PrivacyStatus.Loading, Detail = "starting" };
    CancellationTokenSource? _recovery;
    readonly Func<SidecarSettings, ModelRuntime?>? _localFactory;
    (ModelRuntime Runtime, CompletionEngine Engine)? _local;
    readonly object _localLock = new();
    readonly Lazy<ExposureLedger> _ledger = new(() => new ExposureLedger(ExposureLedger.DefaultFolder()));
    readonly PromptSecurityReporter? _securityReporter;
    readonly CompletionStats _stats = new();
    IReadOnlySet<string>? _modelLanguages;

    public Task Exited => _exit.Task;

    /// <param name="runtimeFactory">makes the model runtime from the settings (the embedded default included)</param>
    /// <param name="localFactory">the whole model on this machine, when there is one: sensitive files and a spent
    /// budget with "local-only" are completed with it (null: they get no completion)</param>
    /// <param name="securityReporter">the per-prompt attacks for noir.promptSecurityReport (null: not offered)</param>
    public NoirLanguageServer(Stream input, Stream output, Func<SidecarSettings, Core.Util.IProgressSink, ModelRuntime> runtimeFactory,
        Func<SidecarSettings, ModelRuntime?>? localFactory = null, PromptSecurityReporter? securityReporter = null)
    {
        _runtimeFactory = runtimeFactory;
        _localFactory = localFactory;
        _securityReporter = securityReporter;
        var formatter = new SystemTextJsonFormatter { JsonSerializerOptions = LspJson.Options };
        var sanitizer = new MessageSanitizer(input, output);
        sanitizer.Start();
        _rpc = new JsonRpc(new HeaderDelimitedMessageHandler(sanitizer.Output, sanitizer.Input, formatter));
        _rpc.AddLocalRpcTarget(this, new JsonRpcTargetOptions { UseSingleObjectParameterDeserialization = true, AllowNonPublicInvocation = false });
        _rpc.Disconnected += (_, e) =>
        {
            if (e.Reason != DisconnectedReason.RemotePartyTerminated) Log($"connection closed: {e.Reason} ({e.Exception?.GetType().Name})");
            _exit.TrySetResult();
        };
    }

    public void Start() => _rpc.StartListening();

    static void Log(string message) => Console.Error.WriteLine($"noir-lsp: {message}");

    [JsonRpcMethod("initialize")]
    public InitializeResult Initialize(InitializeParams p)
    {
        ParamsCheck.Require(p, "params");
        // Once only: a second initialize would reset the settings under a running model.
        if (Interlocked.Exchange(ref _initializeCount, 1) != 0) throw new LocalRpcException("initialize was already received") { ErrorCode = -32600 };
        _settings = SidecarSettings.From(p.InitializationOptions);
        _clientShowsProgress = p.Capabilities is { ValueKind: JsonValueKind.Object } c && c.TryGetProperty("window", out var w)
            && w.TryGetProperty("workDoneProgress", out var wdp) && wdp.ValueKind == JsonValueKind.True;
        _root = p.RootUri is { } uri && Uri.TryCreate(uri, UriKind.Absolute, out var u) && u.IsFile ? u.LocalPath : null;
        _sensitive = SensitiveFiles.ForWorkspace(_root);
        var capabilities = JsonSerializer.SerializeToElement(new
        {
            textDocumentSync = new { openClose = true, change = 2 },
            inlineCompletionProvider = new { },
            executeCommandProvider = new { commands = new[] { GenerateFunctionCommand, PrivacyCommands.ExposureLedger, PrivacyCommands.RotateKeys, PromptSecurity.Command } },
            workspace = new { workspaceFolders = new { supported = false } },
        }, LspJson.Options);
        return new InitializeResult(capabilities, new ServerInfo("noircode-sidecar", "0.1.0"));
    }

    [JsonRpcMethod("initialized")]
    public void Initialized()
    {
        // A repeated notification must not load the model (and restart the local endpoint) again.
        if (Interlocked.Exchange(ref _initializedCount, 1) == 0) _loading = Task.Run(LoadRuntime);
    }

    void LoadRuntime()
    {
        SetStatus(new PrivacyStatus { Mode = PrivacyStatus.Loading, Detail = "loading the model" });
        var progress = new LspProgress(_rpc, _clientShowsProgress, "NoirCode: loading the model");
        try
        {
            var clock = Stopwatch.StartNew();
            var runtime = _runtimeFactory(_settings, progress);
            if (runtime.Guard != null) runtime.Guard.Budget = Budget(runtime); // the guard enforces it on every packet
            var engine = new CompletionEngine(runtime.Session, runtime.Tokenizer, runtime.MaxPositions, CompletionSettingsFor(_settings),
                runtime.Guard is { } guard ? guard.Settle : null); // each request's exposure, charged ahead, settled exactly
            // The languages the model declares: the client folder's, else those of the public model it comes from.
            _modelLanguages = ModelLanguages.Declared(runtime.ModelFolder) ?? ModelLanguages.Declared(runtime.PublicModelFolder);
            (_runtime, _engine) = (runtime, engine);
            progress.End();
            Log($"model ready in {clock.ElapsedMilliseconds} ms: {runtime.Mode}");
            SetStatus(BaseStatus() with { Detail = runtime.Mode });
        }
        catch (Exception e)
        {
            progress.End();
            Log($"model failed to load: {e.Message}");
            SetStatus(new PrivacyStatus { Mode = PrivacyStatus.Error, Detail = e.Message });
        }
    }

    static CompletionSettings CompletionSettingsFor(SidecarSettings s) => new()
    {
        MaxNewTokens = s.MaxNewTokens, Debounce = s.DebounceMs is int ms ? TimeSpan.FromMilliseconds(ms) : null,
        Speculation = s.SpeculativeDecoding ? new SpeculationOptions() : null, TokenHealing = s.TokenHealing,
    };

    PrivacyStatus BaseStatus()
    {
        var runtime = _runtime;
        string mode = runtime == null ? PrivacyStatus.Loading : runtime.Mode == "local" ? PrivacyStatus.Local : PrivacyStatus.Split;
        var keys = runtime?.Keys;
        var budget = Budget();
        long used = 0;
        long? previous = null;
        // Tokens sent under this key (or without keys) in the budget's period (a day without a budget).
        if (runtime?.Remote != null && runtime.Guard is { } guard)
        {
            used = (budget ?? new ExposureBudget(long.MaxValue)).Evaluate(_ledger.Value, guard.KeyId).UsedTokens;
            if (runtime.KeysFolder != null && KeyRotation.PreviousKeyId(runtime.KeysFolder) is { } before)
                previous = _ledger.Value.Sum(k => k.Key == before).Tokens;
        }
        var measured = runtime?.MeasuredBudget?.Budget;
        return new PrivacyStatus
        {
            Mode = mode, Epsilon = keys?.Epsilon, ExposureUsed = used, ExposureLimit = budget?.TokensPerPeriod,
            ExposureBasis = budget == null ? "none" : _settings.ExposureBudgetTokens != null ? "setting" : "measured",
            ExposurePeriod = (budget?.Period ?? BudgetPeriod.Day).ToString().ToLowerInvariant(),
            ExposureMeaning = measured?.Meaning(),
            ExposureCurve = measured?.Curve.Select(p => new VolumePointStatus(p.Tokens, p.ContentRecovered)).ToArray(),
            PreviousKeyTokens = previous,
            KeyLabel = keys == null ? "none" : keys.Demo ? "demo" : keys.Label, Demo = keys?.Demo ?? false,
            KeyAgeDays = keys == null ? null : Math.Round(keys.Age(DateTimeOffset.UtcNow).TotalDays, 1),
            Endpoint = runtime?.Remote?.LastEndpoint?.ToString() ?? (_settings.Endpoints?.FirstOrDefault()),
            ModelLanguages = _modelLanguages?.Order(StringComparer.Ordinal).ToArray(),
        };
    }

    /// <summary>
    /// The budget the guard enforces: noir.exposureBudgetTokens when set (per its period), else the one measured for
    /// this configuration (per key: the volume at which the strongest attack reads 3 % of the content), else none.
    /// </summary>
    internal ExposureBudget? Budget(ModelRuntime? runtime = null)
    {
        runtime ??= _runtime; // a runtime being loaded is not _runtime yet
        var atLimit = _settings.AtLimit == "local-only" ? BudgetAction.LocalOnly : BudgetAction.Block;
        if (_settings.ExposureBudgetTokens is long tokens)
            return new ExposureBudget(tokens, Enum.TryParse<BudgetPeriod>(_settings.ExposurePeriod, true, out var p) ? p : BudgetPeriod.Day, atLimit);
        return runtime?.MeasuredBudget?.Budget.ToBudget(atLimit);
    }

    void SetStatus(PrivacyStatus status)
    {
        _status = status;
        _ = _rpc.NotifyWithParameterObjectAsync("noir/privacyStatus", status);
    }

    [JsonRpcMethod("shutdown")]
    public object? Shutdown()
    {
        _engine?.Dispose();
        _engine = null;
        return null;
    }

    [JsonRpcMethod("exit")]
    public void Exit() => _exit.TrySetResult();

    [JsonRpcMethod("textDocument/didOpen")]
    public void DidOpen(DidOpenTextDocumentParams p)
    {
        var doc = ParamsCheck.Require(ParamsCheck.Require(p, "params").TextDocument, "textDocument");
        ParamsCheck.Require(doc.Uri, "textDocument.uri"); ParamsCheck.Require(doc.Text, "textDocument.text");
        _documents.Open(doc with { LanguageId = doc.LanguageId ?? "" });
    }

    [JsonRpcMethod("textDocument/didChange")]
    public void DidChange(DidChangeTextDocumentParams p)
    {
        string uri = ParamsCheck.Require(ParamsCheck.Require(ParamsCheck.Require(p, "params").TextDocument, "textDocument").Uri, "textDocument.uri");
        var changes = ParamsCheck.Require(p.ContentChanges, "contentChanges");
        foreach (var c in changes)
        {
            ParamsCheck.Require(ParamsCheck.Require(c, "contentChanges[]").Text, "contentChanges[].text");
            if (c.Range != null) ParamsCheck.Valid(c.Range, "contentChanges[].range");
        }
        _documents.Change(uri, changes);
    }

    [JsonRpcMethod("textDocument/didClose")]
    public void DidClose(DidCloseTextDocumentParams p) =>
        _documents.Close(ParamsCheck.Require(ParamsCheck.Require(ParamsCheck.Require(p, "params").TextDocument, "textDocument").Uri, "textDocument.uri"));

    [JsonRpcMethod("workspace/didChangeConfiguration")]
    public void DidChangeConfiguration(DidChangeConfigurationParams p)
    {
        ParamsCheck.Require(p, "params");
        var next = SidecarSettings.From(p.Settings, _settings);
        if (next.LocalModelFolder != _settings.LocalModelFolder)
            lock (_localLock) { _local?.Engine.Dispose(); _local = null; }
        bool reload = next.ModelFolder != _settings.ModelFolder || !(next.Endpoints ?? Array.Empty<string>()).SequenceEqual(_settings.Endpoints ?? Array.Empty<string>())
            || next.KeysFolder != _settings.KeysFolder || next.Mode != _settings.Mode || next.Wire != _settings.Wire || next.ApiKey != _settings.ApiKey
            || next.AllowCleartextEndpoint != _settings.AllowCleartextEndpoint || next.AllowUnprotectedEndpoint != _settings.AllowUnprotectedEndpoint;
        _settings = next;
        if (reload)
        {
            _recovery?.Cancel();
            lock (_localLock) { _local?.Engine.Dispose(); _local = null; }
            var old = (_runtime, _engine);
            (_runtime, _engine) = (null, null);
            old._engine?.Dispose();
            _loading = Task.Run(LoadRuntime);
        }
        else
        {
            _engine?.UpdateSettings(CompletionSettingsFor(next));
            if (_runtime?.Guard is { } guard) guard.Budget = Budget();
            SetStatus(BaseStatus() with { Detail = _status.Detail, Last = _status.Last });
        }
    }

    [JsonRpcMethod(CompletionStatsRequest)]
    public CompletionStatsSnapshot CompletionStatistics() => _stats.Snapshot();

    [JsonRpcMethod("textDocument/inlineCompletion")]
    public async Task<InlineCompletionList> InlineCompletion(InlineCompletionParams p, CancellationToken cancel)
    {
        string requestUri = ParamsCheck.Require(ParamsCheck.Require(ParamsCheck.Require(p, "params").TextDocument, "textDocument").Uri, "textDocument.uri");
        ParamsCheck.Valid(p.Position, "position");
        if (p.Context?.SelectedCompletionInfo is { } info) ParamsCheck.Valid(info.Range, "context.selectedCompletionInfo.range");
        var (list, emptyReason) = await InlineCompletionOrReason(p, requestUri, cancel);
        if (emptyReason != null) _stats.Empty(emptyReason);
        else _stats.Suggested();
        return list;
    }

    /// <returns>the items, and when there are none, why (an <see cref="EmptyReason"/>)</returns>
    async Task<(InlineCompletionList List, string? EmptyReason)> InlineCompletionOrReason(InlineCompletionParams p, string requestUri, CancellationToken cancel)
    {
        var empty = new InlineCompletionList(Array.Empty<InlineCompletionItem>());
        if (_documents.Get(requestUri) is not { } doc) return (empty, EmptyReason.UnknownDocument);
        if (doc.TooLarge) return (empty, EmptyReason.DocumentTooLarge);
        // Judged on the real file and the current text: a secret pasted in a moment ago counts.
        string? sensitive = _sensitive.Reason(requestUri, doc.Text);
        if (_loading != null && !_loading.IsCompleted) await Task.WhenAny(_loading, Task.Delay(Timeout.Infinite, cancel));
        var engine = _engine;
        if (engine == null) return (empty, EmptyReason.NotLoaded);
        string? localReason = null;
        if (sensitive != null && _runtime?.Remote != null)
        {
            // Nothing of a sensitive file goes to the endpoint: the whole model here completes it, or nothing does.
            engine = LocalEngine();
            if (engine == null)
            {
                SetStatus(BaseStatus() with { Detail = $"sensitive file ({sensitive}): nothing is sent for it (set localModelFolder to complete it on this machine)", Last = _status.Last });
                return (empty, EmptyReason.SensitiveFile);
            }
            localReason = $"sensitive file ({sensitive}): completed on this machine only, nothing sent";
        }
        // After the sensitive-file check: that nothing of a secret file is sent matters more than its language.
        if (LanguageGate.Refusal(doc.Language, _modelLanguages, _settings.EnabledLanguages, _settings.DisabledLanguages) is { } refusal)
        {
            if (refusal == EmptyReason.LanguageNotSupported)
                SetStatus(BaseStatus() with { Detail = LanguageGate.Explain(doc.Language, _modelLanguages!), Last = _status.Last, UnsupportedLanguage = doc.Language });
            return (empty, refusal);
        }
        int offset = DocumentStore.Offset(doc.Text, p.Position);
        string prefix = doc.Text[..offset], suffix = doc.Text[offset..];
        // VS Code's suggest widget: complete as if its selected item were already inserted.
        if (p.Context?.SelectedCompletionInfo is { } selected)
        {
            int start = DocumentStore.Offset(doc.Text, selected.Range.Start);
            prefix = doc.Text[..start] + selected.Text;
        }
        var (result, refused) = await Complete(engine, new CompletionContext(prefix, suffix), cancel, explicitRequest: p.Context?.TriggerKind == 1, localReason);
        if (result?.Text is not { } text) return (empty, refused ?? result?.EmptyReason ?? EmptyReason.Refused);
        var range = new Range(p.Position, p.Position);
        if (p.Context?.SelectedCompletionInfo is { } sel)
        {
            // The item replaces the selected completion's range, so it repeats the selection's text.
            text = sel.Text + text;
            range = sel.Range;
        }
        return (new InlineCompletionList(new[] { new InlineCompletionItem(text, range) }), null);
    }

    /// <summary>The whole model on this machine, loaded on first need.</summary>
    CompletionEngine? LocalEngine()
    {
        if (_localFactory == null) return null;
        lock (_localLock)
        {
            if (_local is { } loaded) return loaded.Engine;
            try
            {
                if (_localFactory(_settings) is not { } runtime) return null;
                _local = (runtime, new CompletionEngine(runtime.Session, runtime.Tokenizer, runtime.MaxPositions, CompletionSettingsFor(_settings)));
                Log("whole model loaded for local-only completions");
                return _local.Value.Engine;
            }
            catch (Exception e) when (e is IOException or ArgumentException or Core.Util.ModelLoadException)
            {
                Log($"no local model: {e.Message}");
                return null;
            }
        }
    }

    /// <returns>the outcome, or null and why the model could not be asked (offline, budget, refused)</returns>
    async Task<(CompletionOutcome? Outcome, string? Refused)> Complete(CompletionEngine engine, CompletionContext context, CancellationToken cancel, bool explicitRequest, string? localReason = null)
    {
        var runtime = _runtime!;
        var before = runtime.Remote?.Total ?? default;
        try
        {
            var outcome = await engine.CompleteAsync(context, cancel, explicitRequest);
            var after = runtime.Remote?.Total ?? default;
            SetStatus(BaseStatus() with
            {
                Detail = localReason ?? runtime.Mode,
                Last = new LastRequest(after.Tokens - before.Tokens, after.BytesUp - before.BytesUp, Math.Round(outcome.Elapsed.TotalMilliseconds, 1), outcome.Source) { Empty = outcome.EmptyReason },
            });
            return (outcome, null);
        }
        catch (EndpointUnavailableException e)
        {
            Log("endpoint unreachable; probing until it answers");
            SetStatus(BaseStatus() with { Mode = PrivacyStatus.Offline, Detail = e.Message });
            StartRecoveryProbe(runtime);
            return (null, EmptyReason.Offline);
        }
        catch (ExposureBudgetExceededException e)
        {
            if (_settings.AtLimit == "local-only" && localReason == null && LocalEngine() is { } local)
            {
                var outcome = await Complete(local, context, cancel, explicitRequest, "exposure budget spent: completing on this machine only");
                SetStatus(_status with { Mode = PrivacyStatus.Local });
                return outcome;
            }
            SetStatus(BaseStatus() with { Mode = PrivacyStatus.Blocked, Detail = e.Message });
            return (null, EmptyReason.Budget);
        }
        catch (Exception e) when (e is EndpointRequestException or EgressRejectedException)
        {
            Log($"completion refused: {e.GetType().Name}");
            SetStatus(BaseStatus() with { Mode = PrivacyStatus.Error, Detail = e.Message });
            return (null, EmptyReason.Refused);
        }
    }

    /// <summary>Offline: probe the endpoints' health (nothing of the user's is sent) and leave the offline mode when one answers.</summary>
    void StartRecoveryProbe(ModelRuntime runtime)
    {
        if (runtime.Remote is not { } remote) return;
        var probe = new CancellationTokenSource();
        Interlocked.Exchange(ref _recovery, probe)?.Cancel();
        _ = Task.Run(async () =>
        {
            var back = await EndpointProbe.WaitUntilUpAsync(remote.Endpoints, probe.Token);
            if (back == null || probe.IsCancellationRequested || !ReferenceEquals(_runtime, runtime) || _status.Mode != PrivacyStatus.Offline) return;
            Log("endpoint reachable again");
            SetStatus(BaseStatus() with { Detail = "endpoint reachable again; " + runtime.Mode });
        });
    }

    [JsonRpcMethod("workspace/executeCommand")]
    public async Task<object?> ExecuteCommand(ExecuteCommandParams p, CancellationToken cancel) => ParamsCheck.Require(p, "params").Command switch
    {
        GenerateFunctionCommand => await GenerateFunction(p, cancel),
        PrivacyCommands.ExposureLedger => PrivacyCommands.Ledger(_ledger.Value,
            OptionalArgument<ExposureLedgerArguments>(p)?.Days ?? 14, DateTimeOffset.UtcNow),
        PrivacyCommands.RotateKeys => await RotateKeys(p, cancel),
        PromptSecurity.Command => await PromptSecurityReport(p, cancel),
        _ => throw new LocalRpcException($"unknown command {p.Command}") { ErrorCode = -32601 },
    };

    static T? OptionalArgument<T>(ExecuteCommandParams p) where T : class =>
        p.Arguments is { Length: > 0 } a && a[0].ValueKind == JsonValueKind.Object ? a[0].Deserialize<T>(LspJson.Options) : null;

    async Task<RotateKeysResult> RotateKeys(ExecuteCommandParams p, CancellationToken cancel)
    {
        var args = OptionalArgument<RotateKeysArguments>(p);
        if (args?.RetuneSteps is < 0 or > 100_000) throw new LocalRpcException("retuneSteps must be between 0 and 100000") { ErrorCode = -32602 };
        if (_loading != null) await _loading;
        var runtime = _runtime ?? throw new LocalRpcException("the model is not loaded: " + _status.Detail) { ErrorCode = -32803 };
        string keys = args?.KeysFolder is { Length: > 0 } k ? k : runtime.KeysFolder ?? _settings.KeysFolder
            ?? throw new LocalRpcException("no privacy keys are configured, so there are none to rotate") { ErrorCode = -32602 };
        var progress = new LspProgress(_rpc, _clientShowsProgress, "NoirCode: generating privacy keys");
        try
        {
            var result = await Task.Run(() => PrivacyCommands.Rotate(keys, runtime.ModelFolder, DateTimeOffset.UtcNow, progress), cancel);
            Log($"new privacy keys {result.KeyId} (ε = {result.Epsilon}){(result.ClientFolder != null ? ", tuned shard re-keyed" : "")}");
            if (args?.RetuneSteps is > 0 && result.ClientFolder != null)
                result = await RetuneAfterRotation(result, args.RetuneSteps.Value, runtime, progress, cancel);
            return result;
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ArgumentException or UnauthorizedAccessException or Privacy.Keys.KeyMismatchException)
        {
            throw new LocalRpcException(e.Message) { ErrorCode = -32603 };
        }
        finally { progress.End(); }
    }

    /// <summary>Samples per re-tune step and tokens per sample; each sample's tokens cross twice (hidden states up,
    /// the boundary gradient up), and both are charged.</summary>
    const int RetuneBatch = 2, RetuneSequence = 128;

    /// <summary>
    /// The re-tune of a rotation: STuning of the re-keyed shard on the workspace's code (never its secret files)
    /// against the new key's fresh adapter, charged to the new key and held to half of what its budget has left,
    /// so completions keep the other half. A re-tune that cannot run leaves the rotation done and says why.
    /// </summary>
    async Task<RotateKeysResult> RetuneAfterRotation(RotateKeysResult result, int steps, ModelRuntime runtime, Core.Util.IProgressSink progress, CancellationToken cancel)
    {
        if (runtime.RemoteOptions is not { } endpoint) return result with { RetuneNote = "not re-tuned: this runtime has no endpoint to train the new key's adapter" };
        if (_root is not { } root) return result with { RetuneNote = "not re-tuned: there is no workspace folder with code to tune on" };
        var newKeys = Privacy.Keys.PrivacyKeys.ReadMetadata(result.KeysFolder);
        var measured = MeasuredBudget.ForKeys(newKeys, null, result.KeysFolder, result.ClientFolder, runtime.PublicModelFolder);
        var budget = _settings.ExposureBudgetTokens is long t ? new ExposureBudget(t, BudgetPeriod.Key) : measured?.Budget.ToBudget(BudgetAction.Block);
        const long tokensPerStep = 2L * RetuneBatch * RetuneSequence;
        string? note = null;
        if (budget != null)
        {
            long half = (budget.TokensPerPeriod - budget.Evaluate(_ledger.Value, newKeys.KeyId).UsedTokens) / 2;
            if (half / tokensPerStep < steps)
            {
                note = $"re-tune held to {half / tokensPerStep} of {steps} steps: half of the new key's budget ({budget.TokensPerPeriod:N0} tokens) at {tokensPerStep} tokens a step";
                steps = (int)(half / tokensPerStep);
            }
            if (steps == 0) return result with { RetuneNote = $"not re-tuned: one step ({tokensPerStep} tokens) does not fit in half of the new key's budget ({budget.TokensPerPeriod:N0} tokens)" };
        }
        try
        {
            string ledgerFolder = ExposureLedger.DefaultFolder();
            var retune = await Task.Run(() => Retune.Run(result.ClientFolder!, result.KeysFolder, endpoint, root,
                new TuneSettings(steps, RetuneBatch, RetuneSequence, 5e-4), _ledger.Value, WorkspaceIds.For(ledgerFolder, root), budget, progress,
                mayTuneOn: (path, text) => !_sensitive.IsSensitive(new Uri(path).AbsoluteUri, text)), cancel);
            Log($"re-tuned {retune.Steps} steps under the new keys: {retune.TokensSent} tokens sent");
            return result with { RetunedSteps = retune.Steps, RetuneTokensSent = retune.TokensSent, RetuneNote = note };
        }
        catch (Exception e) when (e is IOException or ArgumentException or EndpointUnavailableException or EndpointRequestException or ExposureBudgetExceededException)
        {
            Log($"re-tune failed: {e.GetType().Name}");
            return result with { RetuneNote = "not re-tuned: " + e.Message };
        }
    }

    async Task<PromptSecurityResult> PromptSecurityReport(ExecuteCommandParams p, CancellationToken cancel)
    {
        static LocalRpcException Unavailable(string why) => new(why) { ErrorCode = -32803 };
        PromptSecurityArguments? args;
        try { args = OptionalArgument<PromptSecurityArguments>(p); }
        catch (JsonException e) { throw new LocalRpcException("invalid params: " + e.Message) { ErrorCode = -32602 }; }
        if (args == null) throw new LocalRpcException($"{PromptSecurity.Command} takes one argument {{uri, position}}") { ErrorCode = -32602 };
        ParamsCheck.Require(args.Uri, "arguments[0].uri");
        ParamsCheck.Valid(args.Position, "arguments[0].position");
        if (_documents.Get(args.Uri) is not { } doc) throw new LocalRpcException($"document {args.Uri} is not open") { ErrorCode = -32602 };
        if (doc.TooLarge) throw new LocalRpcException($"the document is over {DocumentStore.MaxDocumentChars:N0} characters: its text is not kept") { ErrorCode = -32803 };
        if (_sensitive.IsSensitive(args.Uri, doc.Text)) throw Unavailable("this file is marked sensitive: nothing of it is sent, so the cloud has nothing to attack");
        if (_loading != null) await _loading;
        var runtime = _runtime ?? throw Unavailable("the model is not loaded: " + _status.Detail);
        if (runtime.Remote == null) throw Unavailable("completions run on this machine (local mode): nothing is sent");
        if (_securityReporter == null) throw Unavailable("this sidecar has no attack harness");
        string publicModel = runtime.PublicModelFolder ?? _settings.LocalModelFolder
            ?? throw Unavailable("the report needs the public model the attacker is assumed to hold: set localModelFolder to the whole model");
        string prompt = PromptSecurity.PromptAround(doc.Text, DocumentStore.Offset(doc.Text, args.Position));
        if (prompt.Length == 0) throw Unavailable("there is no text around the cursor");
        var progress = new LspProgress(_rpc, _clientShowsProgress, "NoirCode: security report (the cloud's attacks, run here)");
        try
        {
            progress.Report("attacking the prompt", 0, 1);
            var request = new PromptSecurityRequest(publicModel, runtime.ModelFolder, runtime.KeysFolder, prompt);
            var result = await Task.Run(() => _securityReporter(request, cancel), cancel);
            Log($"security report: {result.Tokens} tokens, cloud {(result.CloudWins ? "wins" : "loses")}");
            return result;
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ArgumentException or Core.Util.ModelLoadException)
        {
            throw new LocalRpcException("the security report failed: " + e.Message) { ErrorCode = -32603 };
        }
        finally { progress.End(); }
    }

    async Task<GeneratedFunction?> GenerateFunction(ExecuteCommandParams p, CancellationToken cancel)
    {
        if (p.Arguments is not { Length: 1 }) throw new LocalRpcException("noir.generateFunction takes one argument {uri, position | range, instruction?}") { ErrorCode = -32602 };
        GenerateFunctionArguments? args;
        try { args = p.Arguments[0].Deserialize<GenerateFunctionArguments>(LspJson.Options); }
        catch (JsonException e) { throw new LocalRpcException("invalid params: " + e.Message) { ErrorCode = -32602 }; }
        if (args == null) throw new LocalRpcException("missing arguments") { ErrorCode = -32602 };
        ParamsCheck.Require(args.Uri, "arguments[0].uri");
        if (args.Position != null) ParamsCheck.Valid(args.Position, "arguments[0].position");
        else if (args.Range != null) ParamsCheck.Valid(args.Range, "arguments[0].range");
        if (_documents.Get(args.Uri) is not { } doc) throw new LocalRpcException($"document {args.Uri} is not open") { ErrorCode = -32602 };
        if (doc.TooLarge) throw new LocalRpcException($"the document is over {DocumentStore.MaxDocumentChars:N0} characters: its text is not kept") { ErrorCode = -32803 };
        if (_sensitive.IsSensitive(args.Uri, doc.Text)) throw new LocalRpcException("this file is marked sensitive: nothing is sent for it") { ErrorCode = -32803 };
        if (_loading != null) await _loading;
        var runtime = _runtime ?? throw new LocalRpcException("the model is not loaded: " + _status.Detail) { ErrorCode = -32803 };
        var position = args.Position ?? args.Range?.Start ?? throw new LocalRpcException("give a position or a range") { ErrorCode = -32602 };
        var plan = FunctionGenerator.PlanFor(doc.Text, DocumentStore.Offset(doc.Text, position), args.Instruction)
            ?? throw new LocalRpcException("no Python function signature (def ...:) at or above the cursor") { ErrorCode = -32602 };
        var fim = runtime.Tokenizer.Fim!;
        // Only text near the cursor is tokenised (16 characters per token is surely enough).
        string near = plan.Prefix.Length > 700 * 16 ? plan.Prefix[^(700 * 16)..] : plan.Prefix, nearAfter = plan.Suffix.Length > 200 * 16 ? plan.Suffix[..(200 * 16)] : plan.Suffix;
        var engine = _engine ?? throw new LocalRpcException("the model is not loaded") { ErrorCode = -32803 };
        // The prefix ends in the body's indentation, a token the model rarely sees before code: heal it (TokenHealing).
        var prefixIds = runtime.Tokenizer.Encode(near).TakeLast(700).ToList();
        var (kept, healed) = _settings.TokenHealing ? engine.Healing.Split(prefixIds) : (prefixIds, "");
        var ids = fim.BuildPsm(kept, runtime.Tokenizer.Encode(nearAfter).Take(200).ToList());
        var before = runtime.Remote?.Total ?? default;
        var clock = Stopwatch.StartNew();
        var options = new GenerationOptions { MaxTokens = 160, MaxSequenceLength = runtime.MaxPositions, Speculation = _settings.SpeculativeDecoding ? new SpeculationOptions() : null };
        string generated = await Task.Run(() => engine.Exclusive(session => healed.Length > 0
            ? engine.Healing.Generate(session, runtime.Tokenizer, ids, healed, options, cancel)?.Text ?? ""
            : TextGenerator.Generate(session, runtime.Tokenizer, ids, options, cancel).Text), cancel);
        // What the generation sent shows in the status like a completion's.
        var after = runtime.Remote?.Total ?? default;
        SetStatus(BaseStatus() with
        {
            Detail = runtime.Mode,
            Last = new LastRequest(after.Tokens - before.Tokens, after.BytesUp - before.BytesUp, Math.Round(clock.Elapsed.TotalMilliseconds, 1), "generate function"),
        });
        string body = FunctionGenerator.CutAtDedent(generated, plan.BodyIndent);
        var at = DocumentStore.PositionOf(doc.Text, plan.InsertOffset);
        return new GeneratedFunction(body, new Range(at, at));
    }

    public void Dispose() { _recovery?.Cancel(); _engine?.Dispose(); _local?.Engine.Dispose(); _rpc.Dispose(); }
}
