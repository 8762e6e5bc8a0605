namespace NoirCode.Core.Generation;

/// <summary>How speculative decoding drafts; see <see cref="SpeculativeDecoder"/>.</summary>
public sealed record SpeculationOptions
{
    /// <summary>Most draft tokens verified per step; every one of them is sent (and charged) even when rejected.</summary>
    public int DraftTokens { get; init; } = 8;
    public int MaxNgram { get; init; } = 3;
    /// <summary>2: a lone matching token proposes nothing. On held-out code with the bundled model that sends about half
    /// the rejected drafts of 1 for a few % fewer tokens per round trip (docs/benchmarks.md §1b).</summary>
    public int MinNgram { get; init; } = 2;
    /// <summary>Grow the draft by 2 after a step that accepted all of it, shrink it by 1 after one that did not (the
    /// schedule of Hugging Face's assisted generation), between 1 and <see cref="DraftTokens"/>; false: always draft the most.</summary>
    public bool Adaptive { get; init; } = true;
    /// <summary>Other token sequences to draft from after the prompt itself (recent suggestions).</summary>
    public IReadOnlyList<IReadOnlyList<int>> Elsewhere { get; init; } = Array.Empty<IReadOnlyList<int>>();
}

/// <summary>What speculation did in one generation. Trips are steps of the session (round trips when split).</summary>
public sealed record SpeculationStats(int Trips, int PositionsSent, int Drafted, int Accepted, int TokensGenerated)
{
    /// <summary>Tokens that decoding may keep per step: one from the model plus the accepted drafts.</summary>
    public double TokensPerTrip => Trips == 0 ? 0 : (double)(Trips + Accepted) / Trips;
    /// <summary>Positions sent in vain (rejected drafts) per token kept.</summary>
    public double ExtraPerToken => Trips + Accepted == 0 ? 0 : (double)(Drafted - Accepted) / (Trips + Accepted);
}

/// <summary>
/// Decoding that verifies several tokens per step. Each step appends the token decoding chose plus a draft of the
/// tokens that may follow it (<see cref="PromptLookupDrafter"/>), gets the logits after every one of them at once,
/// keeps the longest run of draft tokens the sampler accepts, and rolls the session (with a split model: the
/// client's caches and the endpoint's) back to what it kept. Greedy: the tokens come out exactly as greedy decoding
/// would produce them, one per <see cref="Next"/>; only the number of steps differs. Sampling: speculative sampling
/// (<see cref="Sampler.Accepts"/>), so every token is drawn from the same distribution as without speculation
/// (not the same draws: the random stream is used differently).
/// </summary>
public sealed class SpeculativeDecoder
{
    readonly IInferenceSession _session;
    readonly Sampler _sampler;
    readonly PromptLookupDrafter _drafter;
    readonly int _draftTokens, _allowed;
    readonly bool _adaptive;
    int _draftLength;     // what the next step may draft, when adaptive
    readonly List<int> _sequence;
    readonly Queue<int> _verified = new(); // in the session, not yet handed out
    int _pending;         // the next token, chosen, not yet in the session
    bool _pendingHandedOut;
    int _trips, _sent, _drafted, _accepted, _handedOut;

    /// <param name="prompt">the prompt the session now holds at its end</param>
    /// <param name="logits">the logits after the prompt</param>
    /// <param name="allowed">ids decoding may choose (those the tokenizer can produce)</param>
    /// <param name="sampler">how plain decoding chooses (greedy when null)</param>
    public SpeculativeDecoder(IInferenceSession session, SpeculationOptions options, IReadOnlyList<int> prompt, float[] logits, int allowed, Sampler? sampler = null)
    {
        _session = session; _allowed = allowed;
        _sampler = sampler ?? new Sampler(0, 1, null);
        _draftTokens = Math.Max(0, options.DraftTokens);
        _adaptive = options.Adaptive;
        _draftLength = Math.Max(1, _draftTokens / 2);
        _drafter = new PromptLookupDrafter(options.MaxNgram, options.MinNgram, options.Elsewhere);
        _sequence = prompt.ToList();
        _pending = _sampler.Next(logits, allowed);
    }

    public SpeculationStats Stats => new(_trips, _sent, _drafted, _accepted, _handedOut);

    /// <summary>Whether the next token needs a step of the session (a round trip when split), or is already verified.</summary>
    public bool NextNeedsStep => _verified.Count == 0 && _pendingHandedOut;

    /// <summary>The next token.</summary>
    /// <param name="mostDraft">most draft tokens worth verifying if this call needs a step (the caller's limits on
    /// length and positions)</param>
    public int Next(int mostDraft)
    {
        if (_verified.Count == 0 && _pendingHandedOut) Step(Math.Min(_adaptive ? _draftLength : _draftTokens, mostDraft));
        int next;
        if (_verified.Count > 0) next = _verified.Dequeue();
        else { next = _pending; _pendingHandedOut = true; }
        _sequence.Add(next);
        _handedOut++;
        return next;
    }

    /// <summary>Appends the pending token and a draft after it; keeps what the sampler accepts.</summary>
    void Step(int mostDraft)
    {
        var draft = _drafter.Draft(_sequence, Math.Max(0, mostDraft));
        long start = _session.Length;
        var input = new int[draft.Count + 1];
        input[0] = _pending;
        for (int i = 0; i < draft.Count; i++) input[i + 1] = draft[i];
        var rows = draft.Count == 0 ? new[] { _session.Append(input) } : _session.AppendEach(input);
        _trips++; _sent += input.Length; _drafted += draft.Count;
        int kept = 0;
        while (kept < draft.Count && _sampler.Accepts(rows[kept], _allowed, draft[kept])) _verified.Enqueue(draft[kept++]);
        _accepted += kept;
        if (draft.Count > 0)
            _draftLength = kept == draft.Count ? Math.Min(_draftTokens, _draftLength + 2) : Math.Max(1, _draftLength - 1);
        _pending = kept < draft.Count ? _sampler.NextWithout(rows[kept], _allowed, draft[kept]) : _sampler.Next(rows[kept], _allowed);
        _pendingHandedOut = false;
        // The rejected drafts were computed (and sent) but are not part of the sequence: drop them everywhere.
        if (kept < draft.Count) _session.Truncate(start + 1 + kept);
    }
}
