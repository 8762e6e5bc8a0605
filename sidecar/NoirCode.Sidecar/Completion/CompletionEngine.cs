using System.Diagnostics;
using NoirCode.Core.Generation;
using NoirCode.Core.Tokenization;

namespace NoirCode.Sidecar.Completion;

/// <summary>
/// Inline completion over one warm session. The prompt is fill-in-the-middle in suffix-prefix-middle order, so
/// consecutive keystrokes share almost all of it: the session is rolled back only to where the new prompt first
/// differs and only the new tokens are sent. One request runs at a time; a new one cancels the one in flight.
/// Repeats come from an in-memory cache, and typing what is being suggested reuses the suggestion: neither
/// costs a model call or exposure.
/// </summary>
public sealed class CompletionEngine : IDisposable
{
    readonly IInferenceSession _session;
    readonly CodeTokenizer _tokenizer;
    readonly PromptBuilder _prompts;
    CompletionSettings _settings;
    readonly int _maxPositions;
    readonly CompletionCache _cache = new();
    readonly AdaptiveDebounce _debounce = new();
    readonly SemaphoreSlim _gate = new(1, 1);
    readonly List<int> _inSession = new(); // ids the session holds, in order
    readonly Queue<IReadOnlyList<int>> _recent = new(); // the last suggestions' ids: speculation drafts from them too
    const int RecentSuggestions = 8;
    readonly SingleFlight _flight = new();
    (string Prefix, string Suffix, string Text)? _lastShown;
    TimeSpan? _lastStep; // the last round trip's time: the next request's deadline predicts its first step from it

    readonly Action? _requestDone;

    /// <param name="requestDone">called after each model request (completion or exclusive work), e.g. to record the
    /// true count of the exposure charged ahead for it (<see cref="Privacy.Egress.EgressGuard.Settle"/>)</param>
    public CompletionEngine(IInferenceSession session, CodeTokenizer tokenizer, int maxPositions, CompletionSettings? settings = null, Action? requestDone = null)
    {
        _session = session; _tokenizer = tokenizer; _maxPositions = maxPositions; _requestDone = requestDone;
        _prompts = new PromptBuilder(tokenizer);
        _settings = settings ?? new CompletionSettings();
    }

    /// <summary>Settings the user may change while the engine runs (the debounce); the model stays loaded.</summary>
    public void UpdateSettings(CompletionSettings settings) => _settings = settings;

    /// <param name="explicitRequest">the user asked (LSP trigger kind Invoked): fresh from the model, no waiting</param>
    public async Task<CompletionOutcome> CompleteAsync(CompletionContext context, CancellationToken cancel, bool explicitRequest = false)
    {
        var clock = Stopwatch.StartNew();
        var wait = _settings.Debounce ?? _debounce.Next(explicitRequest);
        string key = CompletionCache.Key(context);
        if (!explicitRequest)
        {
            if (TypedThrough(context) is { } rest) return new CompletionOutcome(rest, CompletionOutcome.TypeThrough, 0, clock.Elapsed);
            if (_cache.TryGet(key, out var cached, out var cachedEmpty)) return Shown(context, new CompletionOutcome(cached, CompletionOutcome.Cache, 0, clock.Elapsed) { EmptyReason = cachedEmpty });
        }

        // Single flight: the newest request wins; the one in flight stops at its next token.
        using var mine = _flight.Begin(cancel);
        try { if (wait > TimeSpan.Zero && !explicitRequest) await Task.Delay(wait, mine.Token); }
        catch (OperationCanceledException)
        {
            return new CompletionOutcome(null, CompletionOutcome.Cancelled, 0, clock.Elapsed) { EmptyReason = Completion.EmptyReason.Cancelled };
        }
        long requestStarted = Stopwatch.GetTimestamp();
        await _gate.WaitAsync(CancellationToken.None);
        try
        {
            if (mine.Token.IsCancellationRequested) return new CompletionOutcome(null, CompletionOutcome.Cancelled, 0, clock.Elapsed) { EmptyReason = Completion.EmptyReason.Cancelled };
            (string Text, int Sent, string Finish) generated;
            try { generated = await Task.Run(() => Generate(context, requestStarted, mine.Token), CancellationToken.None); }
            catch
            {
                _inSession.Clear(); // the session may hold less than we thought: start afresh next time
                try { _session.Truncate(0); } catch (Exception) { }
                throw;
            }
            finally { _requestDone?.Invoke(); }
            var (text, sent, finish) = generated;
            if (finish == GenerationResult.Cancelled) return new CompletionOutcome(null, CompletionOutcome.Cancelled, sent, clock.Elapsed) { EmptyReason = Completion.EmptyReason.Cancelled };
            var shown = CompletionPostProcessor.Apply(context, text, out string? emptiedBy);
            string? empty = shown != null ? null : WhyEmpty(text, finish, emptiedBy);
            // Kept even when the deadline cut it: a repeat of the same context costs no model call and no exposure,
            // which matters more than a longer line (typing on gets a fresh request anyway).
            _cache.Put(key, shown, empty);
            return Shown(context, new CompletionOutcome(shown, CompletionOutcome.Model, sent, clock.Elapsed)
            {
                EmptyReason = empty, CutMidLine = shown != null && finish == GenerationResult.LatencyBudget,
            });
        }
        finally { _gate.Release(); }
    }

    /// <summary>The model wrote nothing (and why it stopped), or post-processing removed what it wrote.</summary>
    static string WhyEmpty(string raw, string finish, string? emptiedBy)
    {
        if (raw.Trim().Length > 0) return Completion.EmptyReason.PostProcessing(emptiedBy ?? "blank");
        return finish switch
        {
            GenerationResult.StopToken => Completion.EmptyReason.ModelEndedAtOnce,
            GenerationResult.StopString => Completion.EmptyReason.StopRule,
            GenerationResult.LatencyBudget or GenerationResult.LineEnd => Completion.EmptyReason.Timeout,
            _ => Completion.EmptyReason.PostProcessing(emptiedBy ?? "blank"),
        };
    }

    CompletionOutcome Shown(CompletionContext context, CompletionOutcome outcome)
    {
        _lastShown = outcome.Text == null ? null : (context.Prefix, context.Suffix, outcome.Text);
        return outcome;
    }

    /// <summary>The user typed the start of what is being suggested: the rest of the suggestion still stands.</summary>
    string? TypedThrough(CompletionContext context)
    {
        if (_lastShown is not { } last || context.Suffix != last.Suffix || !context.Prefix.StartsWith(last.Prefix, StringComparison.Ordinal)) return null;
        string typed = context.Prefix[last.Prefix.Length..];
        if (typed.Length == 0 || typed.Length >= last.Text.Length || !last.Text.StartsWith(typed, StringComparison.Ordinal)) return null;
        return last.Text[typed.Length..];
    }

    /// <param name="requestStarted">when the request stopped waiting for the typing to pause: the suggestion's deadlines
    /// count from it</param>
    (string Text, int Sent, string Finish) Generate(CompletionContext context, long requestStarted, CancellationToken cancel)
    {
        var built = _prompts.Build(context.Prefix, context.Suffix, Shape);
        var prompt = built.Ids;
        string healed = built.Healed;
        // Keep what the session already holds up to the first difference; send only the rest.
        int common = 0;
        while (common < _inSession.Count && common < prompt.Count - 1 && _inSession[common] == prompt[common]) common++;
        _session.Truncate(common);
        _inSession.RemoveRange(common, _inSession.Count - common);
        var toSend = prompt.Skip(common).ToList();
        int sent = toSend.Count;
        _inSession.AddRange(toSend);
        var speculation = _settings.Speculation is { } s ? s with { Elsewhere = _recent.Reverse().ToArray() } : null;
        var tracking = new TrackingSession(_session, _inSession, n => sent += n);
        var options = new GenerationOptions { MaxTokens = _settings.MaxNewTokens, MaxSequenceLength = _maxPositions, RequestStarted = requestStarted, NewlineCutoff = _settings.NewlineCutoff, ShowBy = _settings.ShowBy, ExpectedStep = _lastStep, StopStrings = new[] { "\n\n\n" }, Speculation = speculation };
        GenerationResult result;
        string text;
        if (healed.Length > 0)
        {
            // Prompt lookup drafts from the whole prompt, since generation starts from the healing token only.
            if (speculation != null) options = options with { Speculation = speculation with { Elsewhere = new IReadOnlyList<int>[] { prompt }.Concat(speculation.Elsewhere).ToArray() } };
            if (_prompts.Healing.Generate(tracking, _tokenizer, toSend, healed, options, cancel) is not { } healedResult) return ("", sent, GenerationResult.Cancelled);
            (text, result) = healedResult;
        }
        else
        {
            result = TextGenerator.Generate(tracking, _tokenizer, toSend, options, cancel);
            text = result.Text;
        }
        _lastStep = result.LastStep ?? _lastStep;
        if (result.TokenIds.Count > 0)
        {
            _recent.Enqueue(result.TokenIds);
            if (_recent.Count > RecentSuggestions) _recent.Dequeue();
        }
        return (text, sent, result.FinishReason);
    }

    /// <summary>The prompt a completion at <paramref name="cursor"/> sends, under the current settings (the security
    /// report attacks this).</summary>
    public FimPrompt PromptAt(string document, int cursor) => _prompts.Build(document, cursor, Shape);

    PromptShape Shape => PromptShape.ForCompletion(_settings, _maxPositions);

    /// <summary>Passes appends through and keeps the list of ids the session holds in step with it.</summary>
    sealed class TrackingSession(IInferenceSession inner, List<int> held, Action<int> onDecode) : IInferenceSession
    {
        bool _prefilled;
        public long Length => inner.Length;
        public float[] Append(IReadOnlyList<int> ids) => Track(ids, inner.Append(ids));
        public float[][] AppendEach(IReadOnlyList<int> ids) => Track(ids, inner.AppendEach(ids));
        T Track<T>(IReadOnlyList<int> ids, T logits)
        {
            if (_prefilled) { held.AddRange(ids); onDecode(ids.Count); }
            _prefilled = true;
            return logits;
        }
        public void Truncate(long length)
        {
            inner.Truncate(length);
            if (length < held.Count) held.RemoveRange((int)length, held.Count - (int)length);
        }
        public void Dispose() { }
    }

    public int CachedCompletions => _cache.Count;

    /// <summary>The engine's prompt builder (Generate Function builds its prompt and heals its token with it too).</summary>
    public PromptBuilder Prompts => _prompts;

    /// <summary>
    /// Runs other work on the engine's session (generate function) with completions held off; the completion in
    /// flight gives way, and the session starts afresh.
    /// </summary>
    public T Exclusive<T>(Func<IInferenceSession, T> work)
    {
        _flight.CancelCurrent();
        _gate.Wait();
        try
        {
            _inSession.Clear();
            _session.Truncate(0);
            return work(_session);
        }
        finally
        {
            _inSession.Clear();
            _session.Truncate(0);
            _requestDone?.Invoke();
            _gate.Release();
        }
    }

    public void Dispose() { _flight.CancelCurrent(); _session.Dispose(); _gate.Dispose(); }
}
