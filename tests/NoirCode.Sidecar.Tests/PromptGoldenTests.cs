using System.Text;
using System.Text.Json.Nodes;
using NoirCode.Core.Tokenization;
using NoirCode.Sidecar.Completion;
using NoirCode.Sidecar.Lsp;
using NoirCode.Testing.Models;

namespace NoirCode.Sidecar.Tests;

/// <summary>
/// Each file in tests/fixtures/prompts: a document with a cursor marker and whose prompt it is (inline completion or
/// Generate Function) → the cut points and the prompt, decoded, with the bundled model's tokenizer. With "typed", each
/// keystroke at the cursor must keep the cuts and resend only the prompt's last few tokens (the KV cache stays).
/// </summary>
public class PromptGoldenTests
{
    const string CursorMarker = "<CURSOR>";
    static readonly Lazy<CodeTokenizer> Tokenizer = new(() => CodeTokenizer.Load(BundledModel.Folder));
    static readonly Lazy<PromptBuilder> Builder = new(() => new PromptBuilder(Tokenizer.Value));
    const int BundledMaxPositions = 1024;

    static IEnumerable<TestCaseData> Fixtures() => GoldenFixtures.In("prompts");

    [TestCaseSource(nameof(Fixtures))]
    public void Fixture(string path)
    {
        var o = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        string description = (string?)o["description"] ?? "";
        string marked = Repeated(o["repeatAbove"]) + (string)o["document"]! + Repeated(o["repeatBelow"]);
        int cursor = marked.IndexOf(CursorMarker, StringComparison.Ordinal);
        Assert.That(cursor, Is.GreaterThanOrEqualTo(0), "the document has no " + CursorMarker);
        string document = marked.Remove(cursor, CursorMarker.Length);

        var (prompt, promptDocument) = Build(o, document, cursor);
        var expected = o["expected"]!.AsObject();
        var actual = new JsonObject
        {
            ["tokenisedFrom"] = prompt.TokenisedFrom, ["prefixStart"] = prompt.PrefixStart, ["cursor"] = prompt.Cursor,
            ["healed"] = prompt.Healed, ["suffixEnd"] = prompt.SuffixEnd, ["tokens"] = prompt.Ids.Count, ["prompt"] = Render(prompt.Ids),
        };
        Assert.That(actual.ToJsonString(), Is.EqualTo(expected.ToJsonString()), description);
        Assert.That(Render(prompt.Ids), Does.Contain(promptDocument[prompt.PrefixStart..(prompt.Cursor - prompt.Healed.Length)]), "the prompt sends the prefix its cut points name");

        if ((string?)o["typed"] is { } typed) KeepsTheCutWhileTyping(o, document, cursor, prompt, typed, description);
    }

    [Test]
    public void ThereAreFixtures() => Assert.That(Fixtures().Count(), Is.GreaterThanOrEqualTo(8));

    /// <summary>Each keystroke keeps both cuts, and the new prompt starts with all but the old one's last few ids.</summary>
    static void KeepsTheCutWhileTyping(JsonObject o, string document, int cursor, FimPrompt first, string typed, string description)
    {
        var previous = first;
        for (int k = 1; k <= typed.Length; k++)
        {
            var (prompt, _) = Build(o, document.Insert(cursor, typed[..k]), cursor + k);
            Assert.That((prompt.TokenisedFrom, prompt.PrefixStart), Is.EqualTo((first.TokenisedFrom, first.PrefixStart)), $"{description}: after typing {typed[..k]}");
            int common = 0;
            while (common < prompt.Ids.Count && common < previous.Ids.Count && prompt.Ids[common] == previous.Ids[common]) common++;
            Assert.That(previous.Ids.Count - common, Is.LessThanOrEqualTo(4), $"{description}: typing {typed[k - 1]} re-sends the prompt");
            previous = prompt;
        }
    }

    /// <returns>the prompt, and the document its offsets are in (Generate Function's has the instruction and the body's indentation)</returns>
    static (FimPrompt Prompt, string Document) Build(JsonObject o, string document, int cursor)
    {
        if (o["generateFunction"] is JsonObject generate)
        {
            var plan = FunctionGenerator.PlanFor(document, cursor, (string?)generate["instruction"]) ?? throw new AssertionException("no function at the cursor");
            var shape = FunctionGenerator.PromptShapeFor(BundledMaxPositions, (bool?)generate["tokenHealing"] ?? true);
            return (Builder.Value.Build(plan.Prefix, plan.Suffix, shape), plan.Prefix + plan.Suffix);
        }
        var c = o["completion"]!.AsObject();
        var defaults = new CompletionSettings();
        var settings = defaults with
        {
            MaxPromptTokens = (int?)c["maxPromptTokens"] ?? defaults.MaxPromptTokens,
            SuffixShare = (double?)c["suffixShare"] ?? defaults.SuffixShare,
            TokenHealing = (bool?)c["tokenHealing"] ?? defaults.TokenHealing,
        };
        return (Builder.Value.Build(document, cursor, PromptShape.ForCompletion(settings, BundledMaxPositions)), document);
    }

    /// <summary>{"line": "x_{i} = {i}\n", "times": n}: n lines, {i} their number (long documents stay short to write).</summary>
    static string Repeated(JsonNode? repeat) => repeat is not JsonObject r ? ""
        : string.Concat(Enumerable.Range(0, (int)r["times"]!).Select(i => ((string)r["line"]!).Replace("{i}", i.ToString())));

    /// <summary>The ids as text, the control tokens as &lt;PRE&gt;, &lt;SUF&gt; and &lt;MID&gt;.</summary>
    static string Render(IReadOnlyList<int> ids)
    {
        var fim = Tokenizer.Value.Fim!;
        var text = new StringBuilder();
        var run = new List<int>();
        foreach (int id in ids)
        {
            string? control = id == fim.Prefix ? "<PRE>" : id == fim.Suffix ? "<SUF>" : id == fim.Middle ? "<MID>" : null;
            if (control == null) { run.Add(id); continue; }
            text.Append(Tokenizer.Value.Decode(run)).Append(control);
            run.Clear();
        }
        return text.Append(Tokenizer.Value.Decode(run)).ToString();
    }
}
