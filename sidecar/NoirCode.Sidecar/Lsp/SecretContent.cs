using System.Text.RegularExpressions;

namespace NoirCode.Sidecar.Lsp;

/// <summary>
/// Secrets recognised by their content, whatever the file is called: private-key blocks, the well-known token
/// formats, and long random-looking strings (Shannon entropy ≥ 4.5 bits per character over 32+ base64-ish
/// characters, or ≥ 3.5 over 16+ when assigned to a name like password, secret, token or api_key). Hex digests
/// and UUIDs stay below the bar (at most 4 bits per character). A false alarm only costs that file's completions.
/// </summary>
public static class SecretContent
{
    static readonly Regex PrivateKey = new(@"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----", RegexOptions.Compiled);
    static readonly Regex KnownToken = new(
        @"\b(?:A[KS]IA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,}|glpat-[A-Za-z0-9_\-]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|sk-[A-Za-z0-9_\-]{32,}|AIza[0-9A-Za-z_\-]{35})",
        RegexOptions.Compiled);
    static readonly Regex Assigned = new(
        // A literal: quoted, or alone up to the end of the line (.env, YAML); not an expression such as a call.
        @"(?im)(?<name>secret|token|passw(?:or)?d|pwd|api[_-]?key|access[_-]?key|private[_-]?key|credential)[A-Za-z0-9_\-]*[""']?[ \t]*(?:=|:|=>)[ \t]*(?:[""']([^""'\s]{16,})[""']|([^""'\s,;()\[\]{}]{16,})[ \t]*(?:$|[,;#]))",
        RegexOptions.Compiled);
    static readonly Regex WordsOnly = new(@"^[a-z]+(?:[-_.][a-z]+)+$", RegexOptions.Compiled);
    static readonly Regex LongToken = new(@"[A-Za-z0-9+/_\-]{32,}={0,2}", RegexOptions.Compiled);

    /// <returns>what kind of secret the text holds (never the secret), or null</returns>
    public static string? Find(string text)
    {
        if (PrivateKey.IsMatch(text)) return "a private key";
        if (KnownToken.IsMatch(text)) return "an access token";
        foreach (Match m in Assigned.Matches(text))
        {
            string value = m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value;
            // Lowercase words joined by - or _ are a name ("token_type = 'bare-quoted-string'" in the standard
            // library's email parser), not a key; only a password may be a passphrase like that.
            if (WordsOnly.IsMatch(value) && !m.Groups["name"].Value.StartsWith("p", StringComparison.OrdinalIgnoreCase)) continue;
            if (Entropy(value) >= 3.5) return "a secret assigned to a name like password or token";
        }
        foreach (Match m in LongToken.Matches(text))
            if (Entropy(m.Value) >= 4.5 && m.Value.Any(char.IsDigit) && m.Value.Any(char.IsUpper) && m.Value.Any(char.IsLower)) return "a long random-looking string";
        return null;
    }

    /// <summary>Shannon entropy in bits per character.</summary>
    public static double Entropy(string s)
    {
        if (s.Length == 0) return 0;
        var counts = new Dictionary<char, int>();
        foreach (char c in s) counts[c] = counts.GetValueOrDefault(c) + 1;
        return -counts.Values.Sum(n => (double)n / s.Length * Math.Log2((double)n / s.Length));
    }
}
