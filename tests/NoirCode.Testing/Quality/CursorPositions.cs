using System.Text.RegularExpressions;

namespace NoirCode.Testing.Quality;

/// <summary>
/// Where a user asks for a completion in real code, cut from held-out files: the rest of the line after the cursor
/// is what the user would have typed (the truth); the document given to the sidecar lacks it. Kinds: a line start
/// after its indentation, mid-line after an identifier or after "(", and after "def ", "return " or "= ".
/// </summary>
public sealed record CursorPosition(string Id, string Kind, string File, string Prefix, string Suffix, string Truth)
{
    public const string LineStart = "line start", AfterIdentifier = "after identifier", AfterParen = "after (",
        AfterDef = "after def", AfterReturn = "after return", AfterAssign = "after =";
    public static readonly string[] Kinds = { LineStart, AfterIdentifier, AfterParen, AfterDef, AfterReturn, AfterAssign };

    /// <summary>A fixed sample: <paramref name="perKind"/> positions of each kind, spread over the files, seeded.</summary>
    public static IReadOnlyList<CursorPosition> Sample(IReadOnlyList<string> files, int perKind, int seed = 19)
    {
        var candidates = Kinds.ToDictionary(k => k, _ => new List<CursorPosition>());
        foreach (string file in files)
        {
            string text = System.IO.File.ReadAllText(file).Replace("\r\n", "\n");
            var lines = text.Split('\n');
            int offset = 0;
            for (int i = 0; i < lines.Length; offset += lines[i].Length + 1, i++)
            {
                string line = lines[i];
                string code = line.TrimStart();
                // Code lines only: no comments, docstring lines or blank lines; not too short to judge.
                if (code.Length < 6 || code.StartsWith('#') || code.StartsWith("\"\"\"") || code.StartsWith("'''") || i < 3) continue;
                int indent = line.Length - code.Length;
                void Add(string kind, int column)
                {
                    string truth = line[column..];
                    if (truth.Trim().Length < 2) return;
                    string id = $"{Path.GetFileName(Path.GetDirectoryName(file))}/{Path.GetFileName(file)}:{i + 1}:{column}";
                    candidates[kind].Add(new CursorPosition(id, kind, file, text[..(offset + column)], text[(offset + line.Length)..], truth));
                }
                Add(LineStart, indent);
                if (Regex.Match(code, @"^def \w") is { Success: true }) Add(AfterDef, indent + 4);
                if (Regex.Match(code, @"^return \S") is { Success: true }) Add(AfterReturn, indent + 7);
                if (Regex.Match(line, @"^\s*[\w.\[\]]+ = \S") is { Success: true } m) Add(AfterAssign, m.Length - 1);
                foreach (Match p in Regex.Matches(line, @"\w\(").Cast<Match>().Take(1)) if (p.Index + 2 < line.Length) Add(AfterParen, p.Index + 2);
                // Mid-line after an identifier that ends before a dot or bracket (an attribute or a call follows).
                foreach (Match w in Regex.Matches(line[indent..], @"[A-Za-z_]\w*(?=[.(\[])").Cast<Match>().Skip(1).Take(1)) Add(AfterIdentifier, indent + w.Index + w.Length);
            }
        }
        var rng = new Random(seed);
        return Kinds.SelectMany(k => candidates[k].OrderBy(_ => rng.Next()).Take(perKind)).ToList();
    }
}
