using System.Diagnostics;
using NoirCode.Core.Generation;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Core.Tokenization;
using NoirCode.Testing.Sessions;

namespace NoirCode.Core.Tests;

public class GenerationTests
{
    /// <summary>A session whose logits favour a scripted token at each step, to test the decode loop on its own.</summary>
    sealed class ScriptedSession(int vocab, params int[] script) : IInferenceSession
    {
        int _step;
        public long Length { get; private set; }
        public List<int> Appended { get; } = new();

        public float[] Append(IReadOnlyList<int> ids)
        {
            Appended.AddRange(ids);
            Length += ids.Count;
            var logits = new float[vocab];
            logits[script[Math.Min(_step++, script.Length - 1)]] = 10;
            return logits;
        }

        public void Truncate(long length) => Length = length;
        public void Dispose() { }
    }

    static CodeTokenizer Tok => CodeTokenizer.Load(TestModels.Get());

    [Test]
    public void GreedyStopsAtEndToken()
    {
        var tok = Tok;
        var abc = tok.Encode("abc");
        var session = new ScriptedSession(tok.IdCount, abc.Concat(new[] { tok.SpecialId("<|endoftext|>"), abc[0] }).ToArray());
        var result = TextGenerator.Generate(session, tok, new[] { 1, 2 }, new GenerationOptions { MaxTokens = 50 });
        Assert.That(result.Text, Is.EqualTo("abc"));
        Assert.That(result.FinishReason, Is.EqualTo(GenerationResult.StopToken));
        Assert.That(session.Appended, Is.EqualTo(new[] { 1, 2 }.Concat(abc)), "the end token itself is not fed back");
    }

    [Test]
    public void StopStringIsTrimmed()
    {
        var tok = Tok;
        var ids = tok.Encode("return x\ndef other");
        var result = TextGenerator.Generate(new ScriptedSession(tok.IdCount, ids.ToArray()), tok, new[] { 1 },
            new GenerationOptions { MaxTokens = 50, StopStrings = new[] { "\ndef" } });
        Assert.That(result.Text, Is.EqualTo("return x"));
        Assert.That(result.FinishReason, Is.EqualTo(GenerationResult.StopString));
    }

    [Test]
    public void MaxTokensAndContextLengthBound()
    {
        var tok = Tok;
        var r = TextGenerator.Generate(new ScriptedSession(tok.IdCount, 70), tok, new[] { 1 }, new GenerationOptions { MaxTokens = 5 });
        Assert.That(r.TokenIds, Has.Count.EqualTo(5));
        Assert.That(r.FinishReason, Is.EqualTo(GenerationResult.MaxTokens));
        var limited = TextGenerator.Generate(new ScriptedSession(tok.IdCount, 70), tok, new[] { 1, 2, 3 }, new GenerationOptions { MaxTokens = 50, MaxSequenceLength = 8 });
        Assert.That(limited.FinishReason, Is.EqualTo(GenerationResult.MaxLength));
        Assert.That(3 + limited.TokenIds.Count, Is.LessThanOrEqualTo(8));
        Assert.Throws<ArgumentException>(() => TextGenerator.Generate(new ScriptedSession(tok.IdCount, 70), tok, new[] { 1, 2, 3 }, new GenerationOptions { MaxSequenceLength = 3 }));
    }

    [Test]
    public void PastTheNewlineCutoffASuggestionIsItsFirstLine()
    {
        var tok = Tok;
        var ids = tok.Encode("a = 1\nb = 2\nc = 3\nd = 4\ne = 5\n");
        var result = TextGenerator.Generate(new DelayedSession(new ScriptedSession(tok.IdCount, ids.ToArray()), 0, 15), tok, new[] { 1 },
            new GenerationOptions { MaxTokens = 50, NewlineCutoff = TimeSpan.FromMilliseconds(40) });
        Assert.That(result.Text, Is.EqualTo("a = 1\n"));
        Assert.That(result.FinishReason, Is.EqualTo(GenerationResult.LineEnd));
    }

    [Test]
    public void ALongLineStopsAtTheDeadline()
    {
        var tok = Tok;
        var line = tok.Encode("x = some_function(argument_one, argument_two, argument_three, argument_four, argument_five)");
        var result = TextGenerator.Generate(new DelayedSession(new ScriptedSession(tok.IdCount, line.ToArray()), 0, 15), tok, new[] { 1 },
            new GenerationOptions { MaxTokens = 50, NewlineCutoff = TimeSpan.FromMilliseconds(40), ShowBy = TimeSpan.FromMilliseconds(100) });
        Assert.That(result.FinishReason, Is.EqualTo(GenerationResult.LatencyBudget));
        Assert.That(result.TokenIds.Count, Is.InRange(2, line.Count - 1), "more than one token in 100 ms at 15 ms a step; less than the line");
        Assert.That("x = some_function(argument_one, argument_two, argument_three, argument_four, argument_five)", Does.StartWith(result.Text));
    }

    [Test]
    public void TheDeadlineCountsFromTheRequestAndDoesNotStartAStepThatWouldEndAfterIt()
    {
        // Steps of 200 ms against a 590 ms deadline: tokens come at about 0, 200 and 400 ms. At 400 ms the next step
        // would end at 600, so it is not started (3 tokens); a deadline that only looked at the clock would start it.
        // (The first step may run up to 95 ms late on a loaded machine and the count is still 3.)
        var tok = Tok;
        var line = tok.Encode("x = some_function(argument_one, argument_two)").ToArray();
        var options = new GenerationOptions { MaxTokens = 50, ShowBy = TimeSpan.FromMilliseconds(590) };
        var result = TextGenerator.Generate(new DelayedSession(new ScriptedSession(tok.IdCount, line), 0, 200), tok, new[] { 1 }, options);
        Assert.That(result.FinishReason, Is.EqualTo(GenerationResult.LatencyBudget));
        Assert.That(result.TokenIds, Has.Count.EqualTo(3));
        Assert.That(result.LastStep, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(190)), "the step time, for the next request's prediction");

        // The same request arriving with 450 ms already spent (a far endpoint's prefill, a busy gate), knowing a step
        // takes 200 ms from the last request, starts no step after its first token.
        var late = TextGenerator.Generate(new DelayedSession(new ScriptedSession(tok.IdCount, line), 0, 200), tok, new[] { 1 },
            options with { RequestStarted = Stopwatch.GetTimestamp() - Stopwatch.Frequency * 45 / 100, ExpectedStep = result.LastStep });
        Assert.That(late.TokenIds, Has.Count.EqualTo(1), "the first token only: its first round trip is predicted too");
    }

    [Test]
    public void ASlowPrefillPastTheDeadlineStillGetsVisibleText()
    {
        // On a loaded machine (or after a far endpoint's prefill) the deadline can pass before anything is visible:
        // stopping after the first, blank, token showed nothing.
        var tok = Tok;
        var line = tok.Encode("    \n    total = 0").ToArray();
        var result = TextGenerator.Generate(new DelayedSession(new ScriptedSession(tok.IdCount, line), 300, 40), tok, new[] { 1 },
            new GenerationOptions { MaxTokens = 50, ShowBy = TimeSpan.FromMilliseconds(10) });
        Assert.That(result.FinishReason, Is.EqualTo(GenerationResult.LatencyBudget));
        Assert.That(result.Text.Trim(), Is.Not.Empty);
        Assert.That("    \n    total = 0", Does.StartWith(result.Text));
    }

    [Test]
    public void SamplingIsSeededAndTopPNarrowsTheChoice()
    {
        var logits = new float[] { 2.0f, 1.9f, 1.8f, -5f, 0f };
        var a = new Sampler(1.0, 1.0, seed: 3);
        var b = new Sampler(1.0, 1.0, seed: 3);
        var draws = Enumerable.Range(0, 200).Select(_ => a.Next(logits, 5)).ToList();
        Assert.That(Enumerable.Range(0, 200).Select(_ => b.Next(logits, 5)), Is.EqualTo(draws));
        Assert.That(draws.Distinct().Count(), Is.GreaterThan(2), "temperature 1 explores");
        var nucleus = new Sampler(1.0, 0.05, seed: 3);
        Assert.That(Enumerable.Range(0, 50).Select(_ => nucleus.Next(logits, 5)), Is.All.EqualTo(0), "top-p 0.05 keeps only the most likely token");
        Assert.That(new Sampler(0, 1, null).Next(logits, 5), Is.EqualTo(0));
        Assert.That(new Sampler(0, 1, null).Next(logits, 2), Is.EqualTo(0));
        Assert.That(new Sampler(0, 1, null).Next(new float[] { 0, 1, 9 }, 2), Is.EqualTo(1), "ids the tokenizer cannot produce are never chosen");
    }

    [Test]
    public void RealModelGreedyGenerationIsDeterministicAndSplitAgrees()
    {
        string dir = TestModels.Get();
        using var model = CausalLM.Load(dir);
        using var client = ClientModel.Load(dir);
        using var cloud = CloudShard.Load(dir);
        var fim = model.Tokenizer.Fim!;
        var prompt = fim.BuildPsm(model.Tokenizer.Encode("def add(a, b):\n    "), model.Tokenizer.Encode("\n"));
        var options = new GenerationOptions { MaxTokens = 12 };
        using var s1 = new LocalSession(model);
        using var s2 = new LocalSession(model);
        using var s3 = new SplitSession(client, new LocalMiddleSession(cloud));
        var r1 = TextGenerator.Generate(s1, model.Tokenizer, prompt, options);
        var r2 = TextGenerator.Generate(s2, model.Tokenizer, prompt, options);
        var r3 = TextGenerator.Generate(s3, client.Tokenizer, prompt, options);
        Assert.That(r1.TokenIds, Is.Not.Empty);
        Assert.That(r2.TokenIds, Is.EqualTo(r1.TokenIds));
        Assert.That(r3.TokenIds, Is.EqualTo(r1.TokenIds), "split greedy decoding is token-for-token the unsplit one");
    }
}
