using System.Text.RegularExpressions;

namespace NoirCode.Attack.Metrics;

/// <summary>
/// The items whose recovery counts as a leak (the paper's "imported packages, variable names, function names"):
/// imported modules, names of defined functions and classes, parameters and assigned variables, at least
/// three characters long and not keywords or common builtins. An item is recovered when it appears as a whole
/// word in the decoded reconstruction.
/// </summary>
public static partial class SensitiveItems
{
    static readonly HashSet<string> Common = new(StringComparer.Ordinal)
    {
        "self", "cls", "None", "True", "False", "int", "str", "float", "list", "dict", "set", "tuple", "bool", "len",
        "range", "print", "return", "List", "Dict", "Tuple", "Optional", "Any", "typing", "and", "not", "for", "def",
        "import", "from", "class", "lambda", "with", "while", "else", "elif", "pass", "yield",
    };

    public static IReadOnlySet<string> Of(string code)
    {
        var items = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match m in Imports().Matches(code))
            foreach (var part in (m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value).Split(new[] { '.', ',', ' ' }, StringSplitOptions.RemoveEmptyEntries))
                items.Add(part);
        foreach (Match m in Definitions().Matches(code))
        {
            items.Add(m.Groups[1].Value);
            foreach (var p in m.Groups[2].Value.Split(','))
                if (Identifier().Match(p) is { Success: true } id) items.Add(id.Value);
        }
        foreach (Match m in Assignments().Matches(code)) items.Add(m.Groups[1].Value);
        items.RemoveWhere(s => s.Length < 3 || Common.Contains(s));
        return items;
    }

    /// <summary>The items of <paramref name="items"/> that occur as whole words in <paramref name="reconstruction"/>.</summary>
    public static int Recovered(IReadOnlySet<string> items, string reconstruction)
    {
        if (items.Count == 0 || reconstruction.Length == 0) return 0;
        var words = new HashSet<string>(Identifier().Matches(reconstruction).Select(m => m.Value), StringComparer.Ordinal);
        return items.Count(words.Contains);
    }

    [GeneratedRegex(@"^\s*(?:from\s+([\w.]+)\s+import|import\s+([\w., ]+))", RegexOptions.Multiline)]
    private static partial Regex Imports();
    [GeneratedRegex(@"^\s*(?:def|class)\s+(\w+)\s*(?:\(([^)]*)\))?", RegexOptions.Multiline)]
    private static partial Regex Definitions();
    [GeneratedRegex(@"^\s*([A-Za-z_]\w*)\s*(?:\+|-|\*|/)?=(?!=)", RegexOptions.Multiline)]
    private static partial Regex Assignments();
    [GeneratedRegex(@"[A-Za-z_]\w*")]
    private static partial Regex Identifier();
}
