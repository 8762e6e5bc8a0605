namespace NoirCode.Sidecar.Lsp;

/// <summary>An open document: its text, or, over the size limit, no text at all.</summary>
public sealed record OpenDocument(string Text, string Language, bool TooLarge = false);

/// <summary>
/// The open documents' text, kept in sync by full and incremental changes. Held in memory only and bounded:
/// a document over the size limit is tracked as "too large", without its text, and gets no completions. A
/// truncated copy would drift from the editor with the first edit past its end; without the text, an edit cannot
/// be applied, so the document stays too large until a full text that fits replaces it.
/// </summary>
public sealed class DocumentStore
{
    public const int MaxDocumentChars = 2_000_000;
    readonly Dictionary<string, OpenDocument> _docs = new();

    public void Open(TextDocumentItem item) { lock (_docs) _docs[item.Uri] = Bounded(item.Text, item.LanguageId); }
    public void Close(string uri) { lock (_docs) _docs.Remove(uri); }

    public void Change(string uri, IEnumerable<TextDocumentContentChangeEvent> changes)
    {
        lock (_docs)
        {
            if (!_docs.TryGetValue(uri, out var doc)) return;
            string? text = doc.TooLarge ? null : doc.Text;
            foreach (var change in changes)
            {
                if (change.Range is null) { text = change.Text.Length > MaxDocumentChars ? null : change.Text; continue; }
                if (text == null) continue; // nothing to apply an edit to: still too large
                int start = Offset(text, change.Range.Start), end = Offset(text, change.Range.End);
                if (end < start) (start, end) = (end, start);
                text = start + change.Text.Length + (text.Length - end) > MaxDocumentChars ? null : text[..start] + change.Text + text[end..];
            }
            _docs[uri] = text == null ? TooLargeDocument(doc.Language) : new OpenDocument(text, doc.Language);
        }
    }

    public OpenDocument? Get(string uri) { lock (_docs) return _docs.TryGetValue(uri, out var d) ? d : null; }

    static OpenDocument Bounded(string text, string language) => text.Length > MaxDocumentChars ? TooLargeDocument(language) : new OpenDocument(text, language);
    static OpenDocument TooLargeDocument(string language) => new("", language, TooLarge: true);

    /// <summary>The string index of an LSP position (clamped to the text).</summary>
    public static int Offset(string text, Position p)
    {
        int line = 0, i = 0;
        while (line < p.Line && i < text.Length) { if (text[i] == '\n') line++; i++; }
        int lineEnd = text.IndexOf('\n', i);
        if (lineEnd < 0) lineEnd = text.Length;
        return i + Math.Min(lineEnd - i, Math.Max(0, p.Character)); // no i + int.MaxValue overflow
    }

    public static Position PositionOf(string text, int offset)
    {
        int line = 0, lineStart = 0;
        for (int i = 0; i < offset && i < text.Length; i++) if (text[i] == '\n') { line++; lineStart = i + 1; }
        return new Position(line, offset - lineStart);
    }
}
