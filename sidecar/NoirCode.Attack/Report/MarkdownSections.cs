namespace NoirCode.Attack.Report;

/// <summary>Sections of a generated Markdown report that other commands own, kept between marker comments so
/// that each command rewrites only its own.</summary>
public static class MarkdownSections
{
    /// <summary>Replaces the section between the markers (or appends it); an empty section removes it.</summary>
    public static void Write(string markdownPath, string start, string end, string section)
    {
        string text = File.Exists(markdownPath) ? File.ReadAllText(markdownPath) : "";
        string block = section.Trim().Length == 0 ? "" : $"{start}\n{section.TrimEnd()}\n{end}\n";
        int a = text.IndexOf(start, StringComparison.Ordinal), b = text.IndexOf(end, StringComparison.Ordinal);
        text = a >= 0 && b > a ? text[..a] + block + text[(b + end.Length)..].TrimStart('\n') : text.TrimEnd() + "\n\n" + block;
        File.WriteAllText(markdownPath, text);
    }
}
