using NoirCode.Attack.Data;
using NoirCode.Attack.Metrics;

namespace NoirCode.Attack.Tests;

public class MetricsTests
{
    static TokenClasses Classes => AttackFixture.Knowledge.Classes;

    int[] Ids(string text) => AttackFixture.Knowledge.Tokenizer.Encode(text).ToArray();

    [Test]
    public void A_perfect_guess_scores_one_and_wins()
    {
        var truth = Ids("def add(first, second):\n    return first + second\n");
        var s = ReconstructionScore.Of(truth, truth, Classes);
        Assert.That((s.Crt, s.Bleu, s.Rouge1, s.ContentCrt, s.PositionAccuracy), Is.EqualTo((1.0, 100.0, 1.0, 1.0, (double?)1.0)));
        Assert.That(s.Win && s.ContentWin);
    }

    [Test]
    public void Unigram_scores_clip_repeated_guesses_and_penalise_short_ones()
    {
        int[] truth = { 1, 2, 3, 4 };
        var s = ReconstructionScore.Of(truth, new[] { 1, 1, 1, 1 }, Classes);
        Assert.That(s.Crt, Is.EqualTo(0.25));            // token 1 counted once
        Assert.That(s.Bleu, Is.EqualTo(25.0).Within(1e-9));
        Assert.That(s.PositionAccuracy, Is.EqualTo(0.25));
        var bag = ReconstructionScore.Of(truth, new[] { 4, 3 }, Classes, ordered: false);
        Assert.That(bag.Crt, Is.EqualTo(0.5));
        Assert.That(bag.Bleu, Is.EqualTo(100 * Math.Exp(1 - 4.0 / 2)).Within(1e-9)); // brevity penalty
        Assert.That(bag.Rouge1, Is.EqualTo(2 * 1.0 * 0.5 / 1.5).Within(1e-9));
        Assert.That(bag.PositionAccuracy, Is.Null);
    }

    [Test]
    public void Template_tokens_are_whitespace_punctuation_and_keywords_only()
    {
        foreach (var t in new[] { "    ", "\n", "):", " ==", " return", "def", " None", "(" })
            Assert.That(TokenClasses.IsTemplateText(t), Is.True, t);
        foreach (var t in new[] { " numbers", "threshold", " 0", "List", " Check" })
            Assert.That(TokenClasses.IsTemplateText(t), Is.False, t);
    }

    [Test]
    public void Content_scores_ignore_template_tokens()
    {
        var truth = Ids("    return numbers\n");
        var onlyTemplate = truth.Select(t => Classes.IsTemplate(t) ? t : Ids(" x")[0]).ToArray();
        var s = ReconstructionScore.Of(truth, onlyTemplate, Classes);
        Assert.That(s.Crt, Is.GreaterThan(0.5));
        Assert.That(s.ContentCrt, Is.EqualTo(0));
        Assert.That(s.ContentWin, Is.False);
    }

    [Test]
    public void Sensitive_items_are_imports_definitions_parameters_and_assignments()
    {
        var items = SensitiveItems.Of("import numpy as np\nfrom collections import Counter\n\ndef has_close(numbers, threshold):\n    distance = 0\n    return x\n");
        Assert.That(items, Is.SupersetOf(new[] { "numpy", "collections", "has_close", "numbers", "threshold", "distance" }));
        Assert.That(items, Has.None.EqualTo("x").And.None.EqualTo("import"));
        Assert.That(SensitiveItems.Recovered(items, "the numbers of has_close_x"), Is.EqualTo(1)); // whole words only
    }
}
