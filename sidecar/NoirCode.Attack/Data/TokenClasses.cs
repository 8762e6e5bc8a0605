using NoirCode.Core.Tokenization;

namespace NoirCode.Attack.Data;

/// <summary>
/// Splits the vocabulary into template tokens and content tokens. Template tokens are what every Python file
/// shares and what reveals nothing private: whitespace-only tokens (indentation, newlines), tokens made only of
/// punctuation and operators, Python keywords (including soft keywords and True/False/None, with or without a
/// leading space), and control tokens. Everything else (identifiers, numbers, words in strings and docstrings)
/// is content. Metrics are reported over all tokens and over content tokens alone.
/// </summary>
public sealed class TokenClasses
{
    static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
        "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal",
        "not", "or", "pass", "raise", "return", "try", "while", "with", "yield", "match", "case", "type", "_",
    };

    readonly bool[] _template;
    public string[] Text { get; }

    public TokenClasses(CodeTokenizer tokenizer, int vocabSize)
    {
        _template = new bool[vocabSize];
        Text = new string[vocabSize];
        for (int id = 0; id < vocabSize; id++)
        {
            bool special = tokenizer.IsSpecial(id);
            string text = id < tokenizer.IdCount ? tokenizer.Decode(new[] { id }, keepSpecial: true) : "";
            Text[id] = text;
            _template[id] = special || IsTemplateText(text);
        }
    }

    /// <summary>Whitespace, punctuation/operators only, or a keyword (surrounding whitespace ignored).</summary>
    public static bool IsTemplateText(string text)
    {
        string core = text.Trim();
        if (core.Length == 0) return true;
        if (core.All(c => !char.IsLetterOrDigit(c))) return true;
        return Keywords.Contains(core);
    }

    public bool IsTemplate(int token) => token >= 0 && token < _template.Length && _template[token];
}
