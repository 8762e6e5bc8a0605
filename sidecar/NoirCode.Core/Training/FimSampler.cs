using NoirCode.Core.Tokenization;

namespace NoirCode.Core.Training;

/// <summary>
/// Draws training sequences from documents: a window of lines, and with probability <see cref="FimRate"/> (1/2 by
/// default) a fill-in-the-middle example built on characters before tokenising (as StarCoder does): half the time
/// the middle is one to three whole lines (the shape of single-line infilling), else a random span;
/// prefix-suffix-middle and suffix-prefix-middle orders in equal parts. A share of the FIM examples
/// (<see cref="RestOfLineShare"/>, none by default) can take the editor's shape instead: the rest of one line. Deterministic given the step's seed.
/// </summary>
public sealed class FimSampler
{
    readonly IReadOnlyList<string> _docs;
    readonly long[] _cumulative;
    readonly CodeTokenizer _tok;
    readonly FimFormat _fim;
    readonly int _eos, _pad;
    public int SequenceLength { get; }
    /// <summary>The share of samples made fill-in-the-middle examples.</summary>
    public double FimRate { get; }
    /// <summary>The share of FIM examples whose middle is the rest of a line (<see cref="RestOfLine"/>).</summary>
    public double RestOfLineShare { get; }
    public const int IgnoreIndex = -100;

    public FimSampler(IReadOnlyList<string> docs, CodeTokenizer tokenizer, int sequenceLength, double fimRate = 0.5, double restOfLineShare = 0)
    {
        if (fimRate is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(fimRate), fimRate, "a share between 0 and 1");
        if (restOfLineShare is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(restOfLineShare), restOfLineShare, "a share between 0 and 1");
        _docs = docs; _tok = tokenizer; SequenceLength = sequenceLength; FimRate = fimRate; RestOfLineShare = restOfLineShare;
        _fim = tokenizer.Fim ?? throw new ArgumentException("the tokenizer needs FIM tokens");
        _eos = tokenizer.SpecialId("<|endoftext|>");
        _pad = tokenizer.SpecialId("<|fim_pad|>");
        _cumulative = new long[docs.Count];
        long total = 0;
        for (int i = 0; i < docs.Count; i++) _cumulative[i] = total += docs[i].Length;
    }

    /// <summary>Inputs and targets [SequenceLength] each; padded targets are <see cref="IgnoreIndex"/>.</summary>
    public (long[] Input, long[] Target) Sample(Random rng, bool allowFim = true)
    {
        string doc = _docs[PickDoc(rng)];
        var lines = doc.Split('\n');
        int first = rng.Next(lines.Length);
        int budgetChars = SequenceLength * 4;
        var window = new System.Text.StringBuilder();
        int last = first;
        while (last < lines.Length && window.Length + lines[last].Length + 1 < budgetChars) window.Append(lines[last++]).Append('\n');
        if (window.Length == 0) window.Append(lines[first][..Math.Min(lines[first].Length, budgetChars)]).Append('\n');
        string text = window.ToString();
        bool endOfDoc = last >= lines.Length;

        List<int> ids;
        if (allowFim && rng.NextDouble() < FimRate && text.Length > 8)
        {
            var (pre, mid, suf) = SplitForFim(text, rng);
            var (p, s, m, complete) = FitToWindow(_tok.Encode(pre), _tok.Encode(suf), _tok.Encode(mid));
            ids = rng.NextDouble() < 0.5 ? _fim.BuildPsm(p, s) : _fim.BuildSpm(p, s);
            ids.AddRange(m);
            if (complete) ids.Add(_eos);
        }
        else
        {
            ids = _tok.Encode(text).ToList();
            if (endOfDoc) ids.Add(_eos);
        }
        var input = new long[SequenceLength];
        var target = new long[SequenceLength];
        for (int i = 0; i < SequenceLength; i++)
        {
            input[i] = i < ids.Count ? ids[i] : _pad;
            target[i] = i + 1 < ids.Count ? ids[i + 1] : IgnoreIndex;
        }
        return (input, target);
    }

    /// <summary>
    /// The middle and its end-of-text come last, so a window cut at the sequence length would drop exactly what
    /// FIM teaches. Trim the context instead: the prefix from its start, the suffix from its end (both keep the
    /// text nearest the middle), the suffix to at most half of what is left; a middle too long for the window keeps
    /// its start and loses its end-of-text.
    /// </summary>
    (IReadOnlyList<int> Prefix, IReadOnlyList<int> Suffix, IReadOnlyList<int> Middle, bool MiddleComplete) FitToWindow(IReadOnlyList<int> prefix, IReadOnlyList<int> suffix, IReadOnlyList<int> middle)
    {
        int room = SequenceLength + 1 - 3 - 1; // three FIM markers, one end-of-text
        bool complete = middle.Count <= room - 8;
        if (!complete) middle = middle.Take(Math.Max(1, room - 8)).ToList();
        int context = Math.Max(0, room - middle.Count);
        int suffixKeep = Math.Min(suffix.Count, Math.Max(context / 2, context - prefix.Count));
        int prefixKeep = Math.Min(prefix.Count, context - suffixKeep);
        return (prefix.Skip(prefix.Count - prefixKeep).ToList(), suffix.Take(suffixKeep).ToList(), middle, complete);
    }

    (string Prefix, string Middle, string Suffix) SplitForFim(string text, Random rng)
    {
        // Drawn only when asked for, so that runs without it see the same samples as before.
        if (RestOfLineShare > 0 && rng.NextDouble() < RestOfLineShare && RestOfLine(text, rng) is { } editor) return editor;
        if (rng.NextDouble() < 0.5)
        {
            var lineStarts = new List<int> { 0 };
            for (int i = 0; i < text.Length - 1; i++) if (text[i] == '\n') lineStarts.Add(i + 1);
            lineStarts.Add(text.Length);
            int a = rng.Next(lineStarts.Count - 1);
            int b = Math.Min(lineStarts.Count - 1, a + 1 + (rng.NextDouble() < 0.7 ? 0 : rng.Next(3)));
            return (text[..lineStarts[a]], text[lineStarts[a]..lineStarts[b]], text[lineStarts[b]..]);
        }
        int x = rng.Next(text.Length), y = rng.Next(text.Length);
        (x, y) = (Math.Min(x, y), Math.Max(x, y));
        return (text[..x], text[x..y], text[y..]);
    }

    /// <summary>The editor's shape (as `scripts/bench quality` cuts its positions): the cursor in a line after its
    /// indentation, the middle the rest of that line, the suffix from the line's newline on.</summary>
    static (string Prefix, string Middle, string Suffix)? RestOfLine(string text, Random rng)
    {
        var lines = new List<(int Code, int End)>(); // lines with at least two characters of code
        for (int start = 0; start < text.Length;)
        {
            int newline = text.IndexOf('\n', start), end = newline < 0 ? text.Length : newline, code = start;
            while (code < end && text[code] is ' ' or '\t') code++;
            if (end - code >= 2) lines.Add((code, end));
            start = end + 1;
        }
        if (lines.Count == 0) return null;
        var (from, to) = lines[rng.Next(lines.Count)];
        int cursor = rng.Next(from, to);
        return (text[..cursor], text[cursor..to], text[to..]);
    }

    int PickDoc(Random rng)
    {
        long r = (long)(rng.NextDouble() * _cumulative[^1]);
        int i = Array.BinarySearch(_cumulative, r);
        return i >= 0 ? Math.Min(i + 1, _docs.Count - 1) : ~i;
    }
}
