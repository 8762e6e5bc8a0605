using NoirCode.Testing.Quality;

namespace NoirCode.Sidecar.Tests;

/// <summary>The quality benchmark's own parts: where it puts the cursor and how it scores a suggestion.</summary>
public class QualityBenchTests
{
    [Test]
    public void EditSimilarityIsOneMinusTheEditDistanceOverTheLongerLength()
    {
        Assert.That(TextSimilarity.Edit("radius ** 2", "radius ** 2"), Is.EqualTo(1));
        Assert.That(TextSimilarity.Edit("abc", "abd"), Is.EqualTo(2.0 / 3).Within(1e-9));
        Assert.That(TextSimilarity.Edit("", "math.pi"), Is.Zero);
        Assert.That(TextSimilarity.Edit("kitten", "sitting"), Is.EqualTo(1 - 3.0 / 7).Within(1e-9));
    }

    [Test]
    public void PositionsCutTheRestOfALineOutOfTheDocumentAtEachKind()
    {
        string dir = Directory.CreateTempSubdirectory("noir-quality-").FullName;
        try
        {
            string file = Path.Combine(dir, "area.py");
            string text = "import math\n\n\ndef area(radius):\n    value = math.pi * radius ** 2\n    return round(math.floor(value), 2)\n";
            File.WriteAllText(file, text);
            var positions = CursorPosition.Sample(new[] { file }, 5);
            Assert.That(positions.Select(p => p.Kind).Distinct(), Is.EquivalentTo(new[]
            {
                CursorPosition.LineStart, CursorPosition.AfterDef, CursorPosition.AfterAssign, CursorPosition.AfterReturn, CursorPosition.AfterParen, CursorPosition.AfterIdentifier,
            }));
            foreach (var p in positions)
            {
                Assert.That(p.Prefix + p.Truth + p.Suffix, Is.EqualTo(text), p.Id);
                Assert.That(p.Truth, Does.Not.Contain('\n'), "the truth is the rest of one line");
            }
            Assert.That(positions.Single(p => p.Kind == CursorPosition.AfterReturn && p.Truth.StartsWith("round")).Prefix, Does.EndWith("    return "));
            Assert.That(positions.Single(p => p.Kind == CursorPosition.AfterAssign).Prefix, Does.EndWith("value = "));
            Assert.That(positions.Where(p => p.Kind == CursorPosition.AfterParen).Select(p => p.Prefix[^1]), Is.All.EqualTo('('));
        }
        finally { Directory.Delete(dir, true); }
    }
}
