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
    /// <summary>After this long, stop at the next newline (a completion's latency budget); null: no budget.</summary>
    public TimeSpan? NewlineCutoff { get; init; }
    /// <summary>Stop wherever the text is after decoding (prefill excluded) for this long, even mid-line, once it has
    /// some visible text: caps a suggestion's latency when a line runs long; null: no cap. Checked before each step of the session, so tokens
    /// that speculative decoding already verified are still shown.</summary>
    public TimeSpan? MaxDecodeTime { get; init; }
    /// <summary>Verify drafted tokens several at a time (<see cref="SpeculativeDecoder"/>): greedy, the same tokens in
    /// fewer steps; sampling, tokens from the same distribution (speculative sampling). Null: off.</summary>
    public SpeculationOptions? Speculation { get; init; }
}

public sealed record GenerationResult(string Text, IReadOnlyList<int> TokenIds, string FinishReason, int PromptTokens, TimeSpan Elapsed)
{
    /// <summary>What speculative decoding did; null when it was off.</summary>
    public SpeculationStats? Speculation { get; init; }

    public const string StopToken = "stop_token", StopString = "stop_string", MaxTokens = "max_tokens", MaxLength = "max_length",
        Cancelled = "cancelled", LatencyBudget = "latency_budget";
}

/// <summary>The decode loop: prefill the prompt, then sample and append one token at a time until a stop.</summary>
public static class TextGenerator
{
    /// <param name="onToken">called with the text so far after each token (for streaming)</param>
    public static GenerationResult Generate(IInferenceSession session, CodeTokenizer tokenizer, IReadOnlyList<int> prompt,
        GenerationOptions options, CancellationToken cancel = default, Action<string>? onToken = null)
    {
        var clock = Stopwatch.StartNew();
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
        var decoding = Stopwatch.StartNew();
        string reason = GenerationResult.MaxTokens;
        while (generated.Count < options.MaxTokens)
        {
            if (cancel.IsCancellationRequested) { reason = GenerationResult.Cancelled; break; }
            // Positions a draft may still use: those plain decoding could reach within its token and length limits.
            int next = speculative?.Next((int)Math.Min(options.MaxTokens - generated.Count - 1, options.MaxSequenceLength - 2 - session.Length))
                ?? sampler.Next(logits, tokenizer.IdCount);
            if (tokenizer.EndTokens.Contains(next)) { reason = GenerationResult.StopToken; break; }
            generated.Add(next);
            text = tokenizer.Decode(generated);
            int stopAt = FirstStop(text, options.StopStrings);
            if (stopAt >= 0) { text = text[..stopAt]; reason = GenerationResult.StopString; break; }
            if (options.NewlineCutoff is { } cutoff && clock.Elapsed > cutoff && text.TrimStart('\n').Contains('\n'))
            {
                text = text[..(text.IndexOf('\n', text.Length - text.TrimStart('\n').Length) + 1)];
                reason = GenerationResult.LatencyBudget;
                break;
            }
            onToken?.Invoke(text);
            // The cap stops decoding before a step that would start after it: tokens a speculative step already
            // verified come without another round trip, so a far endpoint still shows them. It waits for some visible
            // text: on a loaded machine a first step can take longer than the cap, and stopping then shows nothing.
            if (options.MaxDecodeTime is { } most && decoding.Elapsed > most && (speculative?.NextNeedsStep ?? true) && text.Trim().Length > 0) { reason = GenerationResult.LatencyBudget; break; }
            if (generated.Count >= options.MaxTokens) break;
            // What plain decoding would hold now (a speculative session may hold verified tokens ahead).
            if (start + prompt.Count + generated.Count >= options.MaxSequenceLength) { reason = GenerationResult.MaxLength; break; }
            if (speculative == null) logits = session.Append(new[] { next });
        }
        return new GenerationResult(text, generated, reason, prompt.Count, clock.Elapsed) { Speculation = speculative?.Stats };
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
