using StreamJsonRpc;

namespace NoirCode.Sidecar.Lsp.Features;

/// <summary>Document sync: open, incremental change and close keep <see cref="DocumentStore"/> as the editor has it.</summary>
public sealed class TextDocumentsFeature(ServerContext context) : ILanguageServerFeature
{
    public void Register(FeatureRegistry registry) => registry.Capability("textDocumentSync", new { openClose = true, change = 2 });

    [JsonRpcMethod("textDocument/didOpen")]
    public void DidOpen(DidOpenTextDocumentParams p)
    {
        var doc = ParamsCheck.Require(ParamsCheck.Require(p, "params").TextDocument, "textDocument");
        ParamsCheck.Require(doc.Uri, "textDocument.uri"); ParamsCheck.Require(doc.Text, "textDocument.text");
        context.Documents.Open(doc with { LanguageId = doc.LanguageId ?? "" });
    }

    [JsonRpcMethod("textDocument/didChange")]
    public void DidChange(DidChangeTextDocumentParams p)
    {
        string uri = ParamsCheck.Require(ParamsCheck.Require(ParamsCheck.Require(p, "params").TextDocument, "textDocument").Uri, "textDocument.uri");
        var changes = ParamsCheck.Require(p.ContentChanges, "contentChanges");
        // All checked before any is applied: a bad change loses nothing.
        foreach (var c in changes)
        {
            ParamsCheck.Require(ParamsCheck.Require(c, "contentChanges[]").Text, "contentChanges[].text");
            if (c.Range != null) ParamsCheck.Valid(c.Range, "contentChanges[].range");
        }
        context.Documents.Change(uri, changes);
    }

    [JsonRpcMethod("textDocument/didClose")]
    public void DidClose(DidCloseTextDocumentParams p) =>
        context.Documents.Close(ParamsCheck.Require(ParamsCheck.Require(ParamsCheck.Require(p, "params").TextDocument, "textDocument").Uri, "textDocument.uri"));
}
