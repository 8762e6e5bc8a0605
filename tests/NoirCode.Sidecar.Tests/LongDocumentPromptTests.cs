using NoirCode.Core.Generation;
using NoirCode.Core.Model;
using NoirCode.Sidecar.Completion;
using NoirCode.Testing.Models;
using NoirCode.Testing.Sessions;

namespace NoirCode.Sidecar.Tests;

/// <summary>
/// Documents longer than the prompt budget: the prompt's start must stay put while the user types at the end,
/// so keystrokes still send only their new tokens (regression: the window slid by a token per keystroke and
/// every keystroke re-sent the whole prompt; and the whole document was tokenised on every request).
/// </summary>
public class LongDocumentPromptTests
{
    [Test]
    public async Task TypingAtTheEndOfALongDocumentSendsOnlyTheNewTokens()
    {
        using var temp = new TempModel("noir-long-doc-", seed: 3);
        var model = CausalLM.Load(temp.Folder);
        var session = new CountingSession(new LocalSession(model));
        using var engine = new CompletionEngine(session, model.Tokenizer, model.Config.MaxPositions, new CompletionSettings { MaxNewTokens = 4 });
        // About 40k characters: far over the prompt budget, in tokens and in characters.
        string document = string.Concat(Enumerable.Range(0, 800).Select(i => $"value_{i} = compute({i}, {i * 7})\n")) + "result = ";
        const string typed = "merge(a, b)";
        var sent = new List<int>();
        for (int k = 0; k <= typed.Length; k++)
        {
            var outcome = await engine.CompleteAsync(new CompletionContext(document + typed[..k], "\n"), default, explicitRequest: true);
            sent.Add(outcome.TokensSent);
        }
        Assert.That(sent[0], Is.GreaterThan(200), "the first request sends the prompt");
        int slid = sent.Skip(1).Count(n => n > 20);
        Assert.That(slid, Is.Zero, $"keystrokes re-sent the prompt: tokens sent per request {string.Join(", ", sent)}");
    }
}
