using System.Text.Json.Nodes;
using NoirCode.Sidecar.Completion;

namespace NoirCode.Sidecar.Tests;

/// <summary>Each file in tests/fixtures/postprocess: prefix, suffix and raw model output → what the editor shows (null: nothing).</summary>
public class PostProcessingGoldenTests
{
    static IEnumerable<TestCaseData> Fixtures() => GoldenFixtures.In("postprocess");

    [TestCaseSource(nameof(Fixtures))]
    public void Fixture(string path)
    {
        var o = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        var context = new CompletionContext((string)o["prefix"]!, (string)o["suffix"]!);
        string? expected = o["expected"] is JsonValue v ? v.GetValue<string>() : null;
        Assert.That(CompletionPostProcessor.Apply(context, (string)o["raw"]!), Is.EqualTo(expected), (string?)o["description"]);
    }

    [Test]
    public void ThereAreFixtures() => Assert.That(Fixtures().Count(), Is.GreaterThanOrEqualTo(10));
}
