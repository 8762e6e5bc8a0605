using NoirCode.Sidecar.Completion;

namespace NoirCode.Sidecar.Tests;

/// <summary>Which languages get completions: the model's declared languages, the user's enable and disable lists.</summary>
public class LanguageGateTests
{
    static readonly IReadOnlySet<string> Python = new HashSet<string> { "python" };

    [Test]
    public void AModelThatDeclaresPythonCompletesPythonOnly()
    {
        Assert.That(LanguageGate.Refusal("python", Python, null, null), Is.Null);
        Assert.That(LanguageGate.Refusal("javascript", Python, null, null), Is.EqualTo(EmptyReason.LanguageNotSupported));
    }

    [Test]
    public void TheUserCanEnableALanguageTheModelDoesNotDeclare()
    {
        Assert.That(LanguageGate.Refusal("javascript", Python, new[] { "javascript" }, null), Is.Null);
        Assert.That(LanguageGate.Refusal("JavaScript", Python, new[] { "javascript" }, null), Is.Null, "language ids compare without case");
        Assert.That(LanguageGate.Refusal("go", Python, new[] { "javascript" }, null), Is.EqualTo(EmptyReason.LanguageNotSupported));
    }

    [Test]
    public void AModelThatDeclaresNothingCompletesEverythingTheUserDoesNotDisable()
    {
        Assert.That(LanguageGate.Refusal("rust", null, null, null), Is.Null);
        Assert.That(LanguageGate.Refusal("markdown", null, null, new[] { "markdown" }), Is.EqualTo(EmptyReason.LanguageDisabled));
        Assert.That(LanguageGate.Refusal("python", Python, new[] { "python" }, new[] { "python" }), Is.EqualTo(EmptyReason.LanguageDisabled), "disabling wins");
    }

    [Test]
    public void TheExplanationNamesTheLanguagesNotCode() =>
        Assert.That(LanguageGate.Explain("javascript", Python), Does.Contain("javascript").And.Contain("python only").And.Contain("noircode.enable"));
}

/// <summary>Where a model declares its languages: config.json, or the model card's front matter.</summary>
public class ModelLanguagesTests
{
    string _dir = "";

    [SetUp]
    public void Folder() => _dir = Directory.CreateTempSubdirectory("noir-languages-").FullName;

    [TearDown]
    public void Clean() => Directory.Delete(_dir, true);

    [Test]
    public void FromConfigJson()
    {
        File.WriteAllText(Path.Combine(_dir, "config.json"), """{"model_type": "llama", "languages": ["Python", "cython"]}""");
        Assert.That(ModelLanguages.Declared(_dir), Is.EquivalentTo(new[] { "python", "cython" }));
    }

    [Test]
    public void FromTheModelCardFrontMatterInlineOrAsAList()
    {
        File.WriteAllText(Path.Combine(_dir, "config.json"), """{"model_type": "llama"}""");
        File.WriteAllText(Path.Combine(_dir, "README.md"), "---\nlicense: mit\nlanguages: [python, rust]\n---\n# card\n");
        Assert.That(ModelLanguages.Declared(_dir), Is.EquivalentTo(new[] { "python", "rust" }));
        File.WriteAllText(Path.Combine(_dir, "README.md"), "---\nlanguages:\n  - go\n  - c\nlicense: mit\n---\n");
        Assert.That(ModelLanguages.Declared(_dir), Is.EquivalentTo(new[] { "go", "c" }));
    }

    [Test]
    public void UndeclaredMeansAnyLanguage()
    {
        File.WriteAllText(Path.Combine(_dir, "config.json"), """{"model_type": "llama"}""");
        File.WriteAllText(Path.Combine(_dir, "README.md"), "# a card without front matter\nlanguages: [python]\n");
        Assert.That(ModelLanguages.Declared(_dir), Is.Null);
        Assert.That(ModelLanguages.Declared(Path.Combine(_dir, "missing")), Is.Null);
    }

    [Test]
    public void TheBundledModelDeclaresPython()
    {
        string? bundled = null;
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null && bundled == null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "models", "noir-coder-8m", "config.json"))) bundled = Path.Combine(d.FullName, "models", "noir-coder-8m");
        Assert.That(bundled, Is.Not.Null, "the bundled model beside the repository");
        Assert.That(ModelLanguages.Declared(bundled), Is.EquivalentTo(new[] { "python" }));
    }
}
