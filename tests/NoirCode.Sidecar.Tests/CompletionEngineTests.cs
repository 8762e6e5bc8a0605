using System.Diagnostics;
using NoirCode.Core.Generation;
using NoirCode.Core.Model;
using NoirCode.Sidecar.Completion;
using NoirCode.Sidecar.Lsp;
using NoirCode.Testing.Models;
using NoirCode.Testing.Sessions;

namespace NoirCode.Sidecar.Tests;

/// <summary>The completion engine on a real (random) model: warm KV, cache, type-through, single flight.</summary>
public class CompletionEngineTests
{
    static TempModel _temp = null!;
    static string _model = "";

    [OneTimeSetUp]
    public void Model()
    {
        _temp = new TempModel("noir-sidecar-tests-", seed: 2);
        _model = _temp.Folder;
    }

    [OneTimeTearDown]
    public void Clean() => _temp.Dispose();

    static (CompletionEngine Engine, CountingSession Session, CausalLM Model) Engine()
    {
        var model = CausalLM.Load(_model);
        var counting = new CountingSession(new LocalSession(model));
        return (new CompletionEngine(counting, model.Tokenizer, model.Config.MaxPositions, new CompletionSettings { MaxNewTokens = 8 }), counting, model);
    }

    const string Document = "import os\nimport sys\n\n\ndef read_config(path):\n    with open(path) as handle:\n        return handle.read()\n\n\ndef main(argv):\n    if len(argv) < 2:\n        ";

    [Test]
    public async Task KeystrokesSendOnlyTheNewTokens()
    {
        var (engine, session, _) = Engine();
        var first = await engine.CompleteAsync(new CompletionContext(Document, "\n    return 0\n"), default);
        Assert.That(first.Source, Is.EqualTo(CompletionOutcome.Model));
        int afterFirst = session.Appended;
        var second = await engine.CompleteAsync(new CompletionContext(Document + "pri", "\n    return 0\n"), default);
        Assert.That(second.Source, Is.EqualTo(CompletionOutcome.Model));
        Assert.That(second.TokensSent, Is.LessThan(15), "typing three characters re-sends a few tokens, not the whole prompt");
        Assert.That(first.TokensSent, Is.GreaterThan(30));
        Assert.That(session.Appended - afterFirst, Is.EqualTo(second.TokensSent));
    }

    /// <summary>The security report attacks exactly the ids a completion at the same cursor sends (regression: it
    /// attacked 2,000 characters before and 600 after the cursor as plain text, a prompt no completion sends).</summary>
    [TestCase(3, TestName = "TheSecurityReportAttacksTheCompletionsPrompt(ShortDocument)")]
    [TestCase(800, TestName = "TheSecurityReportAttacksTheCompletionsPrompt(LongDocument)")]
    public async Task TheSecurityReportAttacksTheCompletionsPrompt(int lines)
    {
        var (engine, session, _) = Engine();
        string document = string.Concat(Enumerable.Range(0, lines).Select(i => $"value_{i} = compute({i}, {i * 7})\n")) + "result = merge(a, b)\nprint(result)\n";
        int cursor = document.IndexOf("(a, b)", StringComparison.Ordinal);
        await engine.CompleteAsync(new CompletionContext(document[..cursor], document[cursor..]), default, explicitRequest: true);
        var request = PromptSecurity.Request("public", _model, null, engine, document, cursor);
        Assert.That(request.PromptIds, Is.EqualTo(session.First), "the report attacks other ids than the completion sends");
        Assert.That(request.PromptText, Does.Contain("result = merge(a, b)"), "secrets are looked for in the text the prompt covers");
    }

    [Test]
    public async Task ALineTheDeadlineCutsIsCountedAndAFinishedOneIsNot()
    {
        var tok = Core.Tokenization.CodeTokenizer.Load(_model);
        const string line = "print(argv[0], argv[1], argv[2], argv[3])";
        var settings = new CompletionSettings { MaxNewTokens = 40, Debounce = TimeSpan.Zero, TokenHealing = false, Speculation = null };
        using var far = new CompletionEngine(new DelayedSession(new FixedTextSession(tok, line), 0, 30), tok, 512, settings with { ShowBy = TimeSpan.FromMilliseconds(150) });
        var cut = await far.CompleteAsync(new CompletionContext(Document, "\n"), default, explicitRequest: true);
        Assert.That(cut.Text, Is.Not.Empty.And.Length.LessThan(line.Length));
        Assert.That(line, Does.StartWith(cut.Text!));
        Assert.That(cut.CutMidLine, Is.True);
        using var patient = new CompletionEngine(new DelayedSession(new FixedTextSession(tok, line), 0, 30), tok, 512, settings with { ShowBy = TimeSpan.FromHours(1) });
        var whole = await patient.CompleteAsync(new CompletionContext(Document, "\n"), default, explicitRequest: true);
        Assert.That(whole.Text, Is.EqualTo(line));
        Assert.That(whole.CutMidLine, Is.False);
    }

    [Test]
    public async Task RepeatsComeFromTheCacheAndTypingTheSuggestionReusesIt()
    {
        var tok = Core.Tokenization.CodeTokenizer.Load(_model);
        var session = new FixedTextSession(tok, "print(argv[0])");
        var engine = new CompletionEngine(session, tok, 512, new CompletionSettings { MaxNewTokens = 16, Debounce = TimeSpan.Zero, TokenHealing = false });
        var context = new CompletionContext(Document, "\n");
        var first = await engine.CompleteAsync(context, default);
        Assert.That(first.Source, Is.EqualTo(CompletionOutcome.Model));
        Assert.That(first.Text, Is.EqualTo("print(argv[0])"));
        int calls = session.Calls;
        var again = await engine.CompleteAsync(context, default);
        Assert.That(again.Source, Is.EqualTo(CompletionOutcome.Cache));
        Assert.That(again.Text, Is.EqualTo(first.Text));
        Assert.That(session.Calls, Is.EqualTo(calls), "no model call");
        var typed = await engine.CompleteAsync(new CompletionContext(Document + "pri", "\n"), default);
        Assert.That(typed.Source, Is.EqualTo(CompletionOutcome.TypeThrough));
        Assert.That(typed.Text, Is.EqualTo("nt(argv[0])"));
        Assert.That(typed.TokensSent, Is.Zero);
        Assert.That(session.Calls, Is.EqualTo(calls), "typing what is suggested costs no model call");
    }

    [Test]
    public async Task AnExplicitRequestSkipsTheCacheAndTheDebounceAdaptsToTyping()
    {
        var (engine, session, _) = Engine();
        var context = new CompletionContext(Document, "\n");
        await engine.CompleteAsync(context, default);
        int calls = session.Calls;
        var invoked = await engine.CompleteAsync(context, default, explicitRequest: true);
        Assert.That(invoked.Source, Is.EqualTo(CompletionOutcome.Model));
        Assert.That(session.Calls, Is.GreaterThan(calls), "asked for explicitly: a fresh model call");

        var debounce = new AdaptiveDebounce();
        debounce.Next(false);
        TimeSpan fast = default;
        for (int i = 0; i < 10; i++) { await Task.Delay(10); fast = debounce.Next(false); }
        for (int i = 0; i < 6; i++) { await Task.Delay(150); debounce.Next(false); }
        var slow = debounce.Next(false);
        Assert.That(fast, Is.LessThan(slow), "short gaps between keystrokes, short waits");
        Assert.That(slow, Is.LessThanOrEqualTo(TimeSpan.FromMilliseconds(350)));
        Assert.That(debounce.Next(true), Is.EqualTo(TimeSpan.Zero));
    }

    [Test]
    public async Task ANewRequestCancelsTheOneInFlight()
    {
        var (engine, _, _) = Engine();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var early = await engine.CompleteAsync(new CompletionContext(Document + "x", "\n"), cancelled.Token);
        Assert.That(early.Source, Is.EqualTo(CompletionOutcome.Cancelled));
        Assert.That(early.Text, Is.Null);
        var tasks = Enumerable.Range(0, 4).Select(i => engine.CompleteAsync(new CompletionContext(Document + new string('y', i + 1), "\n"), default)).ToArray();
        var outcomes = await Task.WhenAll(tasks);
        Assert.That(outcomes[^1].Source, Is.EqualTo(CompletionOutcome.Model), "the newest request is served");
        Assert.That(outcomes.Count(o => o.Source == CompletionOutcome.Cancelled), Is.GreaterThanOrEqualTo(1), "older ones give way");
        var after = await engine.CompleteAsync(new CompletionContext(Document + "z", "\n"), default);
        Assert.That(after.Source, Is.EqualTo(CompletionOutcome.Model), "the session is usable after cancellations");
    }

    [Test]
    public async Task SpeculativeSuggestionsEqualPlainOnesAndCountEveryTokenSent()
    {
        var model = CausalLM.Load(_model);
        // No latency budget, so that both engines decode to the same end whatever the machine's speed.
        var settings = new CompletionSettings { MaxNewTokens = 24, NewlineCutoff = TimeSpan.FromHours(1), ShowBy = TimeSpan.FromHours(1) };
        var plainSession = new CountingSession(new LocalSession(model));
        var fastSession = new CountingSession(new LocalSession(model));
        using var plain = new CompletionEngine(plainSession, model.Tokenizer, model.Config.MaxPositions, settings with { Speculation = null });
        using var fast = new CompletionEngine(fastSession, model.Tokenizer, model.Config.MaxPositions, settings);
        int sent = 0;
        string typed = "";
        foreach (var keystrokes in new[] { "", "pri", "nt(", "argv", "\n", "    ", "return" })
        {
            typed += keystrokes;
            var context = new CompletionContext(Document + typed, "\n    return 0\n");
            var a = await plain.CompleteAsync(context, default, explicitRequest: true);
            var b = await fast.CompleteAsync(context, default, explicitRequest: true);
            Assert.That(b.Text, Is.EqualTo(a.Text), typed);
            sent += b.TokensSent;
        }
        Assert.That(fastSession.Appended, Is.EqualTo(sent), "the tokens reported sent are every position appended, rejected drafts included");
        Assert.That(fastSession.Calls, Is.LessThan(plainSession.Calls), "fewer steps");
    }

    /// <summary>
    /// Requests that overlap without pause: each one cancels the one before it, which may be finishing (and
    /// disposing its token source) at that very moment. No request may fail for it.
    /// </summary>
    [Test]
    public async Task OverlappingRequestsNeverCancelADisposedTokenSource()
    {
        var tok = Core.Tokenization.CodeTokenizer.Load(_model);
        using var engine = new CompletionEngine(new FixedTextSession(tok, "x"), tok, 512,
            new CompletionSettings { MaxNewTokens = 2, Debounce = TimeSpan.Zero, TokenHealing = false, Speculation = null });
        var clock = Stopwatch.StartNew();
        var loops = Enumerable.Range(0, 16).Select(worker => Task.Run(async () =>
        {
            for (int i = 0; clock.Elapsed < TimeSpan.FromSeconds(4); i++)
                await engine.CompleteAsync(new CompletionContext("def f():\n    return " + worker + "_" + i, "\n"), default, explicitRequest: true);
        })).ToArray();
        Assert.DoesNotThrowAsync(() => Task.WhenAll(loops));
    }
}
