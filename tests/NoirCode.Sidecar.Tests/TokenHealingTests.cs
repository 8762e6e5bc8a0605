using NoirCode.Core.Generation;
using NoirCode.Core.Tokenization;
using NoirCode.Sidecar.Completion;
using NoirCode.Testing.Models;
using NoirCode.Testing.Sessions;

namespace NoirCode.Sidecar.Tests;

/// <summary>Token healing at the cursor, with the bundled model's tokenizer (where "return " ends in a lone " ").</summary>
public class TokenHealingTests
{
    static CodeTokenizer Bundled() => CodeTokenizer.Load(BundledModel.Folder);

    [Test]
    public void APrefixEndingInASpaceIsHealedAndTheModelMayNotStartANewLineOrPad()
    {
        var tok = Bundled();
        var healing = new TokenHealing(tok);
        var prefix = tok.Encode("def area_of_circle(radius):\n    return ").ToList();
        var (kept, healed) = healing.Split(prefix);
        Assert.That(healed, Is.EqualTo(" "), "the lone space the pre-tokenizer would attach to the next word");
        Assert.That(kept.Count, Is.EqualTo(prefix.Count - 1));
        var logits = new float[tok.IdCount];
        int Id(string text) => Enumerable.Range(0, tok.IdCount).First(id => healing.Text(id) == text);
        int word = Id(" self");
        logits[word] = 1;
        foreach (int end in tok.EndTokens) logits[end] = 10;
        logits[Id("\n")] = 9;
        logits[Id(" ")] = 8; // the same lone space again
        logits[Id("    ")] = 7; // padding
        Assert.That(healing.Best(logits, healed), Is.EqualTo(word), "not end-of-text, a newline, the lone space again or padding: a token that starts with the space");
        Assert.That(healing.Best(logits, "\n"), Is.Not.EqualTo(Id("\n")), "a healed newline leads into the next line's text");
        Assert.That(healing.Text(healing.Best(logits, "(")), Does.StartWith("("));
    }

    [Test]
    public async Task TheHealedTextIsLeftOutOfThePromptAndNotRepeatedInTheSuggestion()
    {
        var tok = Bundled();
        var session = new FixedTextSession(tok, " radius * radius"); // writes it after whatever prompt it gets
        var engine = new CompletionEngine(session, tok, 1024, new CompletionSettings { Debounce = TimeSpan.Zero, Speculation = null });
        var outcome = await engine.CompleteAsync(new CompletionContext("def area(radius):\n    return ", "\n"), default, explicitRequest: true);
        Assert.That(outcome.Text, Is.EqualTo("radius * radius"));
        Assert.That(tok.Decode(session.LastPrompt), Does.Not.EndWith("return "), "the prompt stops before the healed space");
        Assert.That(session.LastPrompt[^1], Is.EqualTo(tok.Fim!.Middle));
    }
}
