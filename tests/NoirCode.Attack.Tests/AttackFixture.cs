using NoirCode.Attack.Attacks;
using NoirCode.Attack.Data;
using NoirCode.Attack.Evaluation;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Core.Util;
using NoirCode.Privacy.Egress;
using NoirCode.Protocol;

namespace NoirCode.Attack.Tests;

/// <summary>
/// The attacker's public knowledge on the real bundled model, built once for all tests: a small slice of the
/// python3 stdlib as public code and the first HumanEval items as the private set.
/// </summary>
[SetUpFixture]
public sealed class AttackFixture
{
    public static string Model { get; private set; } = "";
    public static AttackerKnowledge Knowledge { get; private set; } = null!;
    public static List<PrivateSequence> Private { get; private set; } = null!;
    public static NearestNeighbourInversion Nn { get; private set; } = null!;

    [OneTimeSetUp]
    public void Build()
    {
        Model = FindUp(Path.Combine("models", "noir-coder-8m"));
        Knowledge = AttackerKnowledge.Build(Model, SplitSpec.Default, t => PublicCorpus.Load(null, t, maxTokens: 150_000), encoderTokens: 20_000,
            WireDtype.Float16, new NullProgress());
        var docs = PrivateDocument.Load(PrivateDocument.DefaultPath(), limit: 24);
        Private = PrivateSequence.Tokenize(docs, Knowledge.Tokenizer, maxTokens: 256);
        Nn = new NearestNeighbourInversion(Knowledge);
    }

    [OneTimeTearDown]
    public void Dispose() => Knowledge?.Dispose();

    static string FindUp(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (Directory.Exists(Path.Combine(dir.FullName, relative))) return Path.Combine(dir.FullName, relative);
        throw new DirectoryNotFoundException($"{relative} not found above {AppContext.BaseDirectory}");
    }
}
