using System.Diagnostics;
using NoirCode.Core.Tokenization;

namespace NoirCode.Core.Generation;

public sealed record GenerationOptions
{
    public int MaxTokens { get; init; } = 64;
    /// <summary>0 = greedy.</summary>
    public double Temperature { get; init; }
    public double TopP { get; init; } = 1.0;
    public IReadOnlyList<string> StopStrings { get; init; } = Array.Empty<string>();
    public int? Seed { get; init; }
    /// <summary>Stop before the sequence would exceed this many positions (the model's context).</summary>
    public int MaxSequenceLength { get; init; } = int.MaxValue;
    /// <summary>When the request started (a <see cref="Stopwatch.GetTimestamp"/> value): the deadlines below count from
    /// it, so a far endpoint's prefill and round trips use up the same budget the user waits through; null: from the
    /// start of this call.</summary>
    public long? RequestStarted { get; init; }
    /// <summary>After this long, stop at the next newline (a completion's latency budget: a block the model has not ended
    /// by then is shown as its first line); null: no budget.</summary>
    public TimeSpan? NewlineCutoff { get; init; }
    /// <summary>The suggestion should be on screen by then: a step that would end after it (predicted from the last
    /// step's time, so it adapts to the endpoint's round trip) is not started, even mid-line, once there is visible
    /// text; null: no deadline. Tokens that speculative decoding already verified are still shown.</summary>
    public TimeSpan? ShowBy { get; init; }
    /// <summary>How long a step took last time (<see cref="GenerationResult.LastStep"/> of the previous request on this
    /// session): the deadline's prediction before this request has timed a step of its own, so its first round trip is
    /// predicted too. Null: no prediction until a step has been timed.</summary>
    public TimeSpan? ExpectedStep { get; init; }
    /// <summary>Verify drafted tokens several at a time (<see cref="SpeculativeDecoder"/>): greedy, the same tokens in
    /// fewer steps; sampling, tokens from the same distribution (speculative sampling). Null: off.</summary>
    public SpeculationOptions? Speculation { get; init; }
}

/// <param name="FinishReason">why decoding stopped: <see cref="LineEnd"/> when the newline cutoff ended the suggestion at
/// the end of a line, <see cref="LatencyBudget"/> when <see cref="GenerationOptions.ShowBy"/> cut it wherever it was</param>
public sealed record GenerationResult(string Text, IReadOnlyList<int> TokenIds, string FinishReason, int PromptTokens, TimeSpan Elapsed)
{
    /// <summary>What speculative decoding did; null when it was off.</summary>
    public SpeculationStats? Speculation { get; init; }
    /// <summary>How long the last step took (null: none was timed): the next request's <see cref="GenerationOptions.ExpectedStep"/>.</summary>
    public TimeSpan? LastStep { get; init; }

    public const string StopToken = "stop_token", StopString = "stop_string", MaxTokens = "max_tokens", MaxLength = "max_length",
        Cancelled = "cancelled", LatencyBudget = "latency_budget", LineEnd = "line_end";
}

/// <summary>The decode loop: prefill the prompt, then sample and append one token at a time until a stop.</summary>
public static class TextGenerator
{
    /// <param name="onToken">called with the text so far after each token (for streaming)</param>
    public static GenerationResult Generate(IInferenceSession session, CodeTokenizer tokenizer, IReadOnlyList<int> prompt,
        GenerationOptions options, CancellationToken cancel = default, Action<string>? onToken = null)
    {
        var clock = Stopwatch.StartNew();
        long started = options.RequestStarted ?? Stopwatch.GetTimestamp();
        var sampler = new Sampler(options.Temperature, options.TopP, options.Seed);
        var generated = new List<int>();
        string text = "";
        if (prompt.Count == 0) throw new ArgumentException("the prompt is empty");
        if (prompt.Count >= options.MaxSequenceLength)
            throw new ArgumentException($"the prompt has {prompt.Count} tokens; the model's context is {options.MaxSequenceLength}");
        long start = session.Length;
        float[] logits = session.Append(prompt);
        var speculative = options.Speculation != null
            ? new SpeculativeDecoder(session, options.Speculation, prompt, logits, tokenizer.IdCount, sampler) : null;
        var steps = new StepTimer(options.ExpectedStep);
        string reason = GenerationResult.MaxTokens;
        while (generated.Count < options.MaxTokens)
        {
            if (cancel.IsCancellationRequested) { reason = GenerationResult.Cancelled; break; }
            // Positions a draft may still use: those plain decoding could reach within its token and length limits.
            int next = speculative?.Next((int)Math.Min(options.MaxTokens - generated.Count - 1, options.MaxSequenceLength - 2 - session.Length))
                ?? sampler.Next(logits, tokenizer.IdCount);
            steps.Stepped();
            if (tokenizer.EndTokens.Contains(next)) { reason = GenerationResult.StopToken; break; }
            generated.Add(next);
            text = tokenizer.Decode(generated);
            int stopAt = FirstStop(text, options.StopStrings);
            if (stopAt >= 0) { text = text[..stopAt]; reason = GenerationResult.StopString; break; }
            var elapsed = Stopwatch.GetElapsedTime(started);
            if (options.NewlineCutoff is { } cutoff && elapsed > cutoff && text.TrimStart('\n').Contains('\n'))
            {
                text = text[..(text.IndexOf('\n', text.Length - text.TrimStart('\n').Length) + 1)];
                reason = GenerationResult.LineEnd;
                break;
            }
            onToken?.Invoke(text);
            // The deadline stops decoding before a step that would end after it: tokens a speculative step already
            // verified come without another round trip, so a far endpoint still shows them. It waits for some visible
            // text: on a loaded machine (or after a long prefill) one step can outlast the budget, and stopping then
            // shows nothing.
            bool needsStep = speculative?.NextNeedsStep ?? true;
            if (options.ShowBy is { } showBy && needsStep && elapsed + steps.Expected > showBy && text.Trim().Length > 0) { reason = GenerationResult.LatencyBudget; break; }
            if (generated.Count >= options.MaxTokens) break;
            // What plain decoding would hold now (a speculative session may hold verified tokens ahead).
            if (start + prompt.Count + generated.Count >= options.MaxSequenceLength) { reason = GenerationResult.MaxLength; break; }
            if (needsStep) steps.Starting();
            if (speculative == null) logits = session.Append(new[] { next });
        }
        return new GenerationResult(text, generated, reason, prompt.Count, clock.Elapsed) { Speculation = speculative?.Stats, LastStep = steps.Timed };
    }

    /// <summary>How long the last step (a round trip to the middle blocks, for a split) took: the deadline's prediction
    /// of the next one. A step starts when the loop decides it needs one and ends when its token is out.</summary>
    sealed class StepTimer(TimeSpan? expected)
    {
        long? _startedAt;
        /// <summary>The last step timed in this request, null before one is.</summary>
        public TimeSpan? Timed { get; private set; }
        public TimeSpan Expected => Timed ?? expected ?? TimeSpan.Zero;
        public void Starting() => _startedAt = Stopwatch.GetTimestamp();
        public void Stepped()
        {
            if (_startedAt is { } at) Timed = Stopwatch.GetElapsedTime(at);
            _startedAt = null;
        }
    }

    static int FirstStop(string text, IReadOnlyList<string> stops)
    {
        int best = -1;
        foreach (var s in stops)
        {
            if (s.Length == 0) continue;
            int i = text.IndexOf(s, StringComparison.Ordinal);
            if (i >= 0 && (best < 0 || i < best)) best = i;
        }
        return best;
    }
}
