using System.Text;
using System.Text.RegularExpressions;

namespace NoirCode.Sidecar.Lsp;

/// <summary>
/// One ignore file's rules with gitignore's semantics, so a .noirignore means what a .gitignore with the same
/// lines would: a pattern without a slash matches a name at any depth (so <c>build/</c> covers <c>src/build/x</c>),
/// a slash at the start or in the middle anchors it to the file's folder, a trailing slash matches folders only
/// (and so everything in them), <c>**</c> spans folders, <c>!</c> re-includes, and the last matching line wins.
/// </summary>
public sealed class IgnoreRules
{
    readonly record struct Rule(Regex Pattern, bool Negated, bool DirectoryOnly, bool Anchored);
    readonly List<Rule> _rules;

    public IgnoreRules(IEnumerable<string> lines)
    {
        _rules = new List<Rule>();
        foreach (var raw in lines)
        {
            string line = raw.TrimEnd('\r');
            if (line.Trim().Length == 0 || line.StartsWith('#')) continue;
            line = line.TrimEnd();
            bool negated = line.StartsWith('!');
            if (negated) line = line[1..];
            if (line.StartsWith("\\#") || line.StartsWith("\\!")) line = line[1..];
            bool directoryOnly = line.EndsWith('/');
            line = line.TrimEnd('/');
            bool anchored = line.Contains('/');
            line = line.TrimStart('/');
            if (line.Length == 0) continue;
            _rules.Add(new Rule(ToRegex(line), negated, directoryOnly, anchored));
        }
    }

    public static IgnoreRules Read(string file) => new(File.ReadAllLines(file));

    /// <returns>true: ignored, false: re-included by a ! line, null: no line matches</returns>
    /// <param name="relative">the file's path relative to this ignore file's folder, with / separators</param>
    public bool? Match(string relative)
    {
        var parts = relative.Split('/', StringSplitOptions.RemoveEmptyEntries);
        bool? result = null;
        foreach (var rule in _rules)
            if (Matches(rule, parts)) result = !rule.Negated;
        return result;
    }

    /// <summary>Whether the file, or a folder it is in, matches (git ignores everything inside an ignored folder).</summary>
    static bool Matches(Rule rule, string[] parts)
    {
        for (int n = 1; n <= parts.Length; n++)
        {
            bool isFile = n == parts.Length;
            if (isFile && rule.DirectoryOnly) continue;
            if (rule.Anchored ? rule.Pattern.IsMatch(string.Join('/', parts, 0, n)) : rule.Pattern.IsMatch(parts[n - 1])) return true;
        }
        return false;
    }

    /// <summary>A glob as a regex over /-separated paths: * and ? stay within one name, ** spans folders.</summary>
    public static Regex ToRegex(string glob)
    {
        var sb = new StringBuilder("^");
        for (int i = 0; i < glob.Length; i++)
        {
            char c = glob[i];
            if (c == '*' && i + 1 < glob.Length && glob[i + 1] == '*')
            {
                i++;
                if (i + 1 < glob.Length && glob[i + 1] == '/') { sb.Append("(?:.*/)?"); i++; }
                else sb.Append(".*");
            }
            else if (c == '*') sb.Append("[^/]*");
            else if (c == '?') sb.Append("[^/]");
            else if (c == '[' && glob.IndexOf(']', i + 1) is int close and > 0)
            {
                string set = glob[(i + 1)..close].Replace("\\", "\\\\");
                sb.Append('[').Append(set.StartsWith('!') ? "^" + set[1..] : set).Append(']');
                i = close;
            }
            else if (c == '\\' && i + 1 < glob.Length) sb.Append(Regex.Escape(glob[++i].ToString()));
            else sb.Append(Regex.Escape(c.ToString()));
        }
        return new Regex(sb.Append('$').ToString(), RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);
    }
}
