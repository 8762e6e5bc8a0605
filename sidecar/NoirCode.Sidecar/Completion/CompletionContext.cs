namespace NoirCode.Sidecar.Completion;

/// <summary>The text around the cursor, as the post-processing rules see it.</summary>
public sealed record CompletionContext(string Prefix, string Suffix)
{
    /// <summary>The current line up to the cursor.</summary>
    public string LinePrefix => Prefix[(Prefix.LastIndexOf('\n') + 1)..];

    /// <summary>The current line after the cursor.</summary>
    public string LineSuffix
    {
        get
        {
            int end = Suffix.IndexOf('\n');
            return end < 0 ? Suffix : Suffix[..end];
        }
    }

    /// <summary>Text sits right of the cursor on this line (not just whitespace).</summary>
    public bool MidLine => LineSuffix.Trim().Length > 0;

    /// <summary>The lines after the current one.</summary>
    public IEnumerable<string> FollowingLines
    {
        get
        {
            int end = Suffix.IndexOf('\n');
            return end < 0 ? Array.Empty<string>() : Suffix[(end + 1)..].Split('\n');
        }
    }
}
