using NoirCode.Core.Model;
using NoirCode.Sidecar.Lsp;
using Range = NoirCode.Sidecar.Lsp.Range;
using NoirCode.Testing.Models;

namespace NoirCode.Sidecar.Tests;

/// <summary>The open documents: incremental edits, and the size limit kept without a truncated copy (in the store, and
/// over LSP: no completion for an oversized document, with a counted reason).</summary>
public class DocumentStoreTests
{
    const string Uri = "file:///w/a.py", Code = "def add(a, b):\n    return ";
    static TextDocumentContentChangeEvent Edit(int line, int from, int to, string text) => new(new Range(new Position(line, from), new Position(line, to)), text);

    [Test]
    public void IncrementalEditsApply()
    {
        var store = new DocumentStore();
        store.Open(new TextDocumentItem(Uri, "python", 1, "def f():\n    return 1\n"));
        store.Change(Uri, new[] { Edit(1, 11, 12, "2"), Edit(0, 4, 5, "g") });
        Assert.That(store.Get(Uri), Is.EqualTo(new OpenDocument("def g():\n    return 2\n", "python")));
    }

    [Test]
    public void AnEditPastTheLimitMakesItTooLargeAndOnlyAFullTextThatFitsBringsItBack()
    {
        var store = new DocumentStore();
        store.Open(new TextDocumentItem(Uri, "python", 1, "x = 1\n"));
        store.Change(Uri, new[] { Edit(0, 5, 5, new string('2', DocumentStore.MaxDocumentChars)) });
        Assert.That(store.Get(Uri)!.TooLarge, Is.True);
        Assert.That(store.Get(Uri)!.Text, Is.Empty, "no truncated copy is kept");
        store.Change(Uri, new[] { Edit(0, 0, 3, "") });
        Assert.That(store.Get(Uri)!.TooLarge, Is.True, "an edit cannot be applied to text that is not kept");
        store.Change(Uri, new[] { new TextDocumentContentChangeEvent(null, "y = 2\n") });
        Assert.That(store.Get(Uri), Is.EqualTo(new OpenDocument("y = 2\n", "python")));
    }

    [Test]
    public async Task AnOversizedDocumentGetsNoCompletionAndACountedReasonUntilItFitsAgain()
    {
        using var temp = new TempModel("noir-docs-tests-", seed: 3);
        await OversizedOverLsp(temp.Root, temp.Folder);
    }

    static async Task OversizedOverLsp(string root, string model)
    {
        await using var server = new InProcessServer(root, settings => InProcessServer.LocalRuntime(model, settings));
        await server.InitializeAsync(new { modelFolder = model, mode = "local" });
        server.WaitForStatus(s => s.GetProperty("mode").GetString() == "local");
        string big = "x = 1\n" + new string('#', NoirCode.Sidecar.Lsp.DocumentStore.MaxDocumentChars) + "\n" + Code;
        await server.Open("big.py", big);
        var items = (await server.Complete("big.py", 2, 11, triggerKind: 1)).GetProperty("items");
        Assert.That(items.GetArrayLength(), Is.Zero, "no completion for a document over the size limit");
        var stats = await server.Stats();
        Assert.That(stats.GetProperty("empty").TryGetProperty("document too large", out var n) ? n.GetInt64() : 0, Is.EqualTo(1),
            "counted under its own reason: " + stats);

        // An incremental edit keeps it too large (nothing truncated to drift from); a full text that fits brings it back.
        await server.NotifyAsync("textDocument/didChange", new
        {
            textDocument = new { uri = server.Uri("big.py"), version = 2 },
            contentChanges = new object[] { new { range = new { start = new { line = 0, character = 0 }, end = new { line = 1, character = 0 } }, text = "" } },
        });
        await server.Complete("big.py", 1, 11, triggerKind: 1);
        stats = await server.Stats();
        Assert.That(stats.GetProperty("empty").GetProperty("document too large").GetInt64(), Is.EqualTo(2));
        await server.NotifyAsync("textDocument/didChange", new
        {
            textDocument = new { uri = server.Uri("big.py"), version = 3 }, contentChanges = new object[] { new { text = Code } },
        });
        await server.Complete("big.py", 1, 11, triggerKind: 1);
        stats = await server.Stats();
        Assert.That(stats.GetProperty("empty").GetProperty("document too large").GetInt64(), Is.EqualTo(2), "back under the limit: completed again");
        Assert.That(stats.GetProperty("requests").GetInt64(), Is.EqualTo(3));
    }
}
