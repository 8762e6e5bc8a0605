using NoirCode.Core.Model;
using NoirCode.Core.Util;
using NoirCode.Core.Weights;
using NoirCode.Training;

namespace NoirCode.Training.Tests;

/// <summary>Continued pre-training with the client encoder frozen: what privacy keys were made for stays byte-identical.</summary>
public sealed class PretrainRunTests : ScratchFolderTests
{
    [TestCase(ModelLayout.Embedding, 1, true)]
    [TestCase("model.layers.0.mlp.up_proj.weight", 1, true)]
    [TestCase("model.layers.1.mlp.up_proj.weight", 1, false)]
    [TestCase("model.layers.10.mlp.up_proj.weight", 1, false)]
    [TestCase("model.layers.0.mlp.up_proj.weight", 0, false)]
    [TestCase("model.norm.weight", 1, false)]
    public void FrozenMeansTheEmbeddingAndTheFirstBlocks(string weight, int blocks, bool frozen) =>
        Assert.That(PretrainRun.IsFrozen(weight, blocks), Is.EqualTo(frozen));

    [Test]
    public void TrainingWithAFrozenEncoderMovesOnlyTheRest()
    {
        var run = new PretrainRun(Root);
        RandomModelFactory.Create(run.ModelFolder, "tiny", seed: 3);
        var code = Enumerable.Range(0, 40).Select(i => $"def f{i}(x):\n    return x * {i} + {i % 7}\n\n\nclass C{i}:\n    pass\n").ToList();
        File.WriteAllText(Path.Combine(Root, "train.txt"), string.Join("\u0000", code));
        File.WriteAllText(Path.Combine(Root, "heldout.txt"), string.Join("\u0000", code.Take(5)));

        run.Train(new PretrainRun.Settings(Steps: 3, Batch: 2, SequenceLength: 32, LearningRate: 1e-2, MinutesThisSitting: 10, Seed: 1, FrozenBlocks: 1), new NullProgress());

        var before = WeightFolder.Open(run.ModelFolder);
        var after = WeightFolder.Open(run.LatestWeights());
        Assert.That(run.LatestWeights(), Is.Not.EqualTo(run.ModelFolder), "a checkpoint was written");
        foreach (var e in before.Entries)
        {
            bool same = before.ReadRaw(e.Name).SequenceEqual(after.ReadRaw(e.Name));
            Assert.That(same, Is.EqualTo(PretrainRun.IsFrozen(e.Name, 1)), e.Name);
        }
    }
}
