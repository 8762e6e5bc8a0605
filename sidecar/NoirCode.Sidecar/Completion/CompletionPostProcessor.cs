namespace NoirCode.Sidecar.Completion;

/// <summary>
/// Turns what the model wrote at the cursor into what the editor shows (or nothing). Rules, in order (after
/// Continue's and Tabby's pipelines, see docs/anchors): only the first line when text sits right of the cursor;
/// cut a loop the last line ends in; stop where the suffix starts again; stop at a line repeated three times; stop
/// at a closing bracket the completion did not open and the line prefix does not need; fix indentation the user
/// already typed; drop what merely repeats the suffix, and what is empty. Each rule has golden fixtures in tests/fixtures/postprocess.
/// </summary>
public static class CompletionPostProcessor
{
    const string Openers = "([{", Closers = ")]}";

    /// <returns>the text to show, or null to show nothing</returns>
    public static string? Apply(CompletionContext context, string raw) => Apply(context, raw, out _);

    /// <param name="emptiedBy">when the result is null: the rule that left nothing (for <see cref="EmptyReason"/>)</param>
    public static string? Apply(CompletionContext context, string raw, out string? emptiedBy)
    {
        emptiedBy = null;
        string text = raw.Replace("\r\n", "\n");
        if (text.Trim().Length == 0) { emptiedBy = "blank"; return null; }
        // Each rule in turn; the first to leave only whitespace is the reason there is nothing to show.
        string? first = null;
        string Step(string rule, string next)
        {
            if (first == null && next.Trim().Length == 0) first = rule;
            return next;
        }
        if (context.MidLine) text = Step("first line only", FirstLine(text));
        text = Step("loop in a line", CutLoopAtLineEnd(text));
        text = Step("stop at suffix", StopAtSuffixStart(context, text));
        text = Step("repeated lines", StopAtRepeatedLines(text));
        text = Step("unbalanced closer", StopAtUnbalancedCloser(context, text));
        text = Step("indentation", FixIndentation(context, text));
        text = string.Join('\n', text.Split('\n').Select(l => l.TrimEnd(' ', '\t')));
        if (!context.MidLine) text = text.TrimEnd('\n');
        if (text.Trim().Length == 0) { emptiedBy = first ?? "blank"; return null; }
        if (RepeatsSuffix(context, text)) { emptiedBy = "repeats suffix"; return null; }
        emptiedBy = null;
        return text;
    }

    static string FirstLine(string text)
    {
        int nl = text.IndexOf('\n');
        return nl < 0 ? text : text[..nl];
    }

    /// <summary>Longest piece looked for in <see cref="CutLoopAtLineEnd"/>.</summary>
    const int MaxLoopUnit = 40;

    /// <summary>
    /// A model stuck in a loop inside a line runs on until its token limit ("'resent-quoted-quoted-quoted-quo"): the
    /// last line ends in one piece said again and again (a piece of 3–7 characters six times or more, a longer one
    /// three times or more, the last copy possibly cut short). Keep the first copy, drop the rest. A piece needs two
    /// different visible characters, so rules and padding ("# -----", "0000") are left alone, and a repetition that
    /// something follows ("[0, 0, 0, 0, 0, 0]") is not a loop.
    /// </summary>
    static string CutLoopAtLineEnd(string text)
    {
        int lineStart = text.LastIndexOf('\n') + 1;
        string line = text[lineStart..];
        for (int start = 0; start < line.Length; start++)
            for (int unit = 3; unit <= MaxLoopUnit && start + unit <= line.Length; unit++)
            {
                int copies = 1, at = start + unit;
                while (at + unit <= line.Length && string.CompareOrdinal(line, at, line, start, unit) == 0) { copies++; at += unit; }
                bool cutShort = string.CompareOrdinal(line, at, line, start, line.Length - at) == 0;
                if (copies >= (unit < 8 ? 6 : 3) && cutShort && line.Substring(start, unit).Where(c => !char.IsWhiteSpace(c)).Distinct().Count() >= 2)
                    return text[..(lineStart + start + unit)];
            }
        return text;
    }

    /// <summary>The model ran on into code that already follows the cursor: cut where that code starts.</summary>
    static string StopAtSuffixStart(CompletionContext context, string text)
    {
        string? next = context.FollowingLines.FirstOrDefault(l => l.Trim().Length > 0);
        string anchor = context.LineSuffix.Trim().Length > 0 ? context.LineSuffix.Trim() : next?.Trim() ?? "";
        if (anchor.Length < 3) return text;
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
            if (lines[i].Trim() == anchor || (i > 0 && lines[i].Trim().Length > 0 && anchor.StartsWith(lines[i].Trim(), StringComparison.Ordinal) && lines[i].Trim().Length >= 8))
                return string.Join('\n', lines[..i]) + (i > 0 ? "\n" : "");
        return text;
    }

    /// <summary>A model stuck in a loop: keep the first two copies of a line, cut at the third.</summary>
    static string StopAtRepeatedLines(string text)
    {
        var lines = text.Split('\n');
        var counts = new Dictionary<string, int>();
        for (int i = 0; i < lines.Length; i++)
        {
            string key = lines[i].Trim();
            if (key.Length == 0) continue;
            if ((counts[key] = counts.GetValueOrDefault(key) + 1) == 3) return string.Join('\n', lines[..i]) + "\n";
        }
        return text;
    }

    /// <summary>
    /// A closing bracket is kept when it closes one the completion opened, or one still open on the line before
    /// the cursor that the text right of the cursor does not close already; any other closer ends the completion.
    /// </summary>
    static string StopAtUnbalancedCloser(CompletionContext context, string text)
    {
        var prefixOpen = new Stack<char>();
        foreach (char c in StripStrings(context.LinePrefix))
        {
            if (Openers.Contains(c)) prefixOpen.Push(c);
            else if (Closers.Contains(c) && prefixOpen.Count > 0) prefixOpen.Pop();
        }
        string rest = context.LineSuffix.TrimStart();
        if (rest.Length > 0 && Closers.Contains(rest[0]) && prefixOpen.Count > 0) prefixOpen.Pop(); // the editor already has that closer
        var own = new Stack<char>();
        bool inString = false;
        char quote = '\0';
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (inString) { if (c == quote && text[i - 1] != '\\') inString = false; continue; }
            if (c is '"' or '\'') { inString = true; quote = c; continue; }
            if (c == '#') { int nl = text.IndexOf('\n', i); if (nl < 0) break; i = nl; continue; }
            if (Openers.Contains(c)) own.Push(c);
            else if (Closers.Contains(c))
            {
                char opener = Openers[Closers.IndexOf(c)];
                if (own.Count > 0 && own.Peek() == opener) own.Pop();
                else if (own.Count == 0 && prefixOpen.Count > 0 && prefixOpen.Peek() == opener) prefixOpen.Pop();
                else return text[..i];
            }
        }
        return text;
    }

    static string StripStrings(string line)
    {
        var sb = new System.Text.StringBuilder();
        bool inString = false;
        char quote = '\0';
        foreach (char c in line)
        {
            if (inString) { if (c == quote) inString = false; continue; }
            if (c is '"' or '\'') { inString = true; quote = c; continue; }
            if (c == '#') break;
            sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>The cursor sits after indentation the user typed: the completion's first line must not indent again.</summary>
    static string FixIndentation(CompletionContext context, string text)
    {
        string linePrefix = context.LinePrefix;
        if (linePrefix.Length == 0 || linePrefix.Trim().Length > 0) return text;
        int leading = text.TakeWhile(c => c is ' ' or '\t').Count();
        return leading == 0 ? text : text[leading..];
    }

    /// <summary>Nothing new: the completion is the code that already follows, or its start.</summary>
    static bool RepeatsSuffix(CompletionContext context, string text)
    {
        string t = text.Trim();
        string lineRest = context.LineSuffix.Trim();
        // Only words count as repeating: a lone closer before the same closer completes the line correctly.
        if (lineRest.Length > 0 && t.Any(char.IsLetterOrDigit) && lineRest.StartsWith(t, StringComparison.Ordinal)) return true;
        string following = string.Join('\n', context.FollowingLines.Select(l => l.Trim()).Where(l => l.Length > 0).Take(t.Count(c => c == '\n') + 1));
        return following.Length > 0 && following == string.Join('\n', t.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0));
    }
}
