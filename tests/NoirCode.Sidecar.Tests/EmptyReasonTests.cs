using NoirCode.Sidecar.Completion;

namespace NoirCode.Sidecar.Tests;

/// <summary>Every empty answer says why: the post-processing rule that removed the text, and the counts.</summary>
public class EmptyReasonTests
{
    [TestCase("result = compute(", "a, b)\n", "a, b", "repeats suffix")]
    [TestCase("x = 1\n", "", "  \n\n", "blank")]
    [TestCase("    foo(", ")\n", "))", "unbalanced closer")]
    [TestCase("def f():\n    ", "\n    return total\n", "return total\n", "stop at suffix")]
    public void ThePostProcessingRuleThatLeftNothingIsNamed(string prefix, string suffix, string raw, string rule)
    {
        Assert.That(CompletionPostProcessor.Apply(new CompletionContext(prefix, suffix), raw, out string? emptiedBy), Is.Null);
        Assert.That(emptiedBy, Is.EqualTo(rule));
    }

    [Test]
    public void AShownSuggestionHasNoReason()
    {
        Assert.That(CompletionPostProcessor.Apply(new CompletionContext("x = ", "\n"), "len(items)", out string? emptiedBy), Is.EqualTo("len(items)"));
        Assert.That(emptiedBy, Is.Null);
    }

    [Test]
    public void CountsSplitSuggestionsFromEmptyAnswersByReason()
    {
        var stats = new CompletionStats();
        stats.Suggested();
        stats.Empty(EmptyReason.ModelEndedAtOnce);
        stats.Empty(EmptyReason.ModelEndedAtOnce);
        stats.Empty(EmptyReason.PostProcessing("blank"));
        var s = stats.Snapshot();
        Assert.That((s.Requests, s.Suggestions), Is.EqualTo((4L, 1L)));
        Assert.That(s.Empty[EmptyReason.ModelEndedAtOnce], Is.EqualTo(2));
        Assert.That(s.Empty["post-processing: blank"], Is.EqualTo(1));
    }
}
