using System.Text.RegularExpressions;
using NoirCode.Sidecar.Completion;

namespace NoirCode.Sidecar.Lsp;

/// <summary>
/// "Generate function": finds the Python signature at or above the cursor, with its docstring or a comment,
/// and works out where the body goes and where it must stop (the first line indented no deeper than the def).
/// </summary>
public static class FunctionGenerator
{
    static readonly Regex Def = new(@"^(?<indent>[ \t]*)(async[ \t]+)?def[ \t]+\w+", RegexOptions.Compiled);

    public sealed record Plan(string Prefix, string Suffix, int InsertOffset, string BodyIndent);

    /// <summary>Tokens the body may take.</summary>
    public const int MaxBodyTokens = 160;

    /// <summary>The prompt's shape: more room than a completion's for the code above the function, room left in the
    /// model's positions for the body, and prefix first (one request: there is no KV cache to keep).</summary>
    public static PromptShape PromptShapeFor(int maxPositions, bool healLastToken) =>
        new(Math.Min(900, maxPositions - MaxBodyTokens - 3), 0.25, FimOrder.PrefixSuffixMiddle, healLastToken);

    public static Plan? PlanFor(string text, int cursor, string? instruction)
    {
        var lines = text.Split('\n');
        int cursorLine = text[..Math.Min(cursor, text.Length)].Count(c => c == '\n');
        int defLine = -1;
        for (int i = Math.Min(cursorLine, lines.Length - 1); i >= 0 && i >= cursorLine - 40; i--)
            if (Def.IsMatch(lines[i])) { defLine = i; break; }
        if (defLine < 0) return null;
        string indent = Def.Match(lines[defLine]).Groups["indent"].Value;
        // The signature ends at the first line ending in ':' once brackets balance.
        int depth = 0, headerEnd = -1;
        for (int i = defLine; i < lines.Length && headerEnd < 0; i++)
        {
            foreach (char c in lines[i]) depth += c is '(' or '[' or '{' ? 1 : c is ')' or ']' or '}' ? -1 : 0;
            if (depth <= 0 && lines[i].TrimEnd().EndsWith(':')) headerEnd = i;
        }
        if (headerEnd < 0) return null;
        int end = headerEnd;
        // A docstring right below the signature belongs to the header.
        if (end + 1 < lines.Length && lines[end + 1].TrimStart() is var first && (first.StartsWith("\"\"\"") || first.StartsWith("'''")))
        {
            string quote = first[..3];
            int close = end + 1;
            if (first.Length < 6 || !first.TrimEnd().EndsWith(quote) || first.Trim() == quote)
                for (close = end + 2; close < lines.Length && !lines[close].Contains(quote); close++) { }
            end = Math.Min(close, lines.Length - 1);
        }
        string bodyIndent = indent + "    ";
        int insert = lines.Take(end + 1).Sum(l => l.Length + 1);
        insert = Math.Min(insert, text.Length);
        string prefix = text[..insert];
        if (!prefix.EndsWith('\n')) prefix += "\n";
        if (!string.IsNullOrWhiteSpace(instruction)) prefix += $"{bodyIndent}# {instruction.Trim().Replace('\n', ' ')}\n";
        prefix += bodyIndent;
        return new Plan(prefix, text[insert..], insert, bodyIndent);
    }

    /// <summary>The generated body up to the first non-empty line that leaves the function.</summary>
    public static string CutAtDedent(string body, string bodyIndent)
    {
        var lines = (bodyIndent + body).Split('\n');
        var kept = new List<string>();
        foreach (var line in lines)
        {
            if (line.Trim().Length > 0 && !line.StartsWith(bodyIndent, StringComparison.Ordinal)) break;
            kept.Add(line);
        }
        return string.Join('\n', kept).TrimEnd() + "\n";
    }
}
