using NoirCode.Core.Generation;
using NoirCode.Core.Model;
using NoirCode.Core.Training;
using NoirCode.Core.Util;
using NoirCode.Privacy.Keys;
using NoirCode.STuning;
using NoirCode.STuning.LabelProtection;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace NoirCode.Endpoint.Tests;

/// <summary>Distillation from the whole public model in forward-only STuning: the teacher speaks the keys' index
/// order, its divergence counts only labelled positions, the tuner learns from it, and it never runs with a gradient
/// that leaves.</summary>
public class TeacherDistillationTests
{
    static readonly long[] Tokens = { 5, 17, 3, 42, 8, 99, 23, 61, 2, 14 };

    [Test]
    public void TheTeachersDistributionIsReindexedIntoTheKeysOrder()
    {
        var keys = Clients.FreshKeys();
        var mapping = keys.Mapping();
        using var clean = CausalLM.Load(EndpointFixture.Model);
        using var reference = F.log_softmax(clean.Forward(tensor(Tokens).unsqueeze(0), arange(Tokens.Length), lastOnly: false)[0], -1);
        using var teacher = new TeacherDistillation(CausalLM.Load(EndpointFixture.Model), mapping, 0.5);
        using var byIndex = teacher.TeacherLogProbs(Tokens);

        int vocab = clean.Config.VocabSize, moved = 0;
        var expected = reference.data<float>().ToArray();
        var actual = byIndex.data<float>().ToArray();
        for (int p = 0; p < Tokens.Length; p++)
            for (int t = 0; t < vocab; t++)
            {
                int i = mapping.ToIndex(t);
                if (i != t) moved++;
                Assert.That(actual[p * vocab + i], Is.EqualTo(expected[p * vocab + t]).Within(1e-5), $"position {p}, token {t} at index {i}");
            }
        Assert.That(moved, Is.GreaterThan(vocab), "the keys re-index the vocabulary, so the check is not the identity's");
    }

    [Test]
    public void TheDivergenceIsZeroForTheTeachersOwnDistributionAndCountsOnlyLabelledPositions()
    {
        using var teacher = new TeacherDistillation(CausalLM.Load(EndpointFixture.Model), Clients.FreshKeys().Mapping(), 0.5);
        using var target = teacher.TeacherLogProbs(Tokens);
        var labels = tensor(Tokens.Select((t, p) => p < 4 ? (long)FimSampler.IgnoreIndex : t).ToArray());
        Assert.That(TeacherDistillation.Divergence(target.clone(), target, labels).item<float>(), Is.EqualTo(0).Within(1e-5));

        // Another distribution at unlabelled positions only: still nothing to learn.
        var other = target.clone();
        other[TensorIndex.Slice(0, 4)] = randn(4, target.shape[1]);
        Assert.That(TeacherDistillation.Divergence(other, target, labels).item<float>(), Is.EqualTo(0).Within(1e-5));
        other[5] = randn(target.shape[1]);
        Assert.That(TeacherDistillation.Divergence(other, target, labels).item<float>(), Is.GreaterThan(1e-3));
    }

    [Test]
    public void AWeightOutsideZeroToOneOrAMappingThatIsNotAPermutationIsRefused()
    {
        var mapping = Clients.FreshKeys().Mapping();
        Assert.Throws<ArgumentOutOfRangeException>(() => new TeacherDistillation(CausalLM.Load(EndpointFixture.Model), mapping, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TeacherDistillation(CausalLM.Load(EndpointFixture.Model), mapping, 1.5));
        Assert.Throws<ArgumentException>(() => new TeacherDistillation(CausalLM.Load(EndpointFixture.Model), new Collapsing(), 0.5));
    }

    [Test]
    public async Task TheClientLearnsTheTeachersDistributionAndNeverWithAGradientThatLeaves()
    {
        await using var host = await EndpointFixture.StartAsync();
        var keys = Clients.FreshKeys();
        var docs = new[] { RandomModelFactory.SampleCorpus() };

        (List<double> Divergences, Exception? Error) Tune(LabelProtectionSettings protection)
        {
            using var client = Clients.KeyedClient(keys);
            using var remote = Clients.Training(host.Address);
            using var teacher = new TeacherDistillation(CausalLM.Load(EndpointFixture.Model), keys.Mapping(), 1.0);
            var tuner = new SplitFineTuner(client, keys, remote, Path.Combine(EndpointFixture.Root, $"distilled-{Guid.NewGuid():N}"), teacher);
            try { tuner.Run(docs, new TuneSettings(24, 2, 48, 5e-3) { LabelProtection = protection }, NullProgress.Instance, EndpointFixture.Client); }
            catch (ArgumentException e) { return (tuner.TeacherDivergences, e); }
            return (tuner.TeacherDivergences, null);
        }

        var (divergences, error) = Tune(LabelProtectionSettings.Default);
        Assert.That(error, Is.Null);
        Assert.That(divergences, Has.Count.EqualTo(24));
        Assert.That(divergences.TakeLast(6).Average(), Is.LessThan(divergences.Take(6).Average() * 0.8), "the client moves toward the teacher");

        var refused = Tune(LabelProtectionSettings.None);
        Assert.That(refused.Error, Is.Not.Null, "with the exact gradient leaving, the teacher's reading of the code would leave with it");
        Assert.That(refused.Divergences, Is.Empty, "refused before any step");
        Assert.That(Tune(LabelProtectionSettings.Parse("keep=0.5,noise=1")).Error, Is.Not.Null);
    }

    /// <summary>A mapping that sends every token to index 0.</summary>
    sealed class Collapsing : IVocabularyMapping
    {
        public int ToIndex(int token) => 0;
        public float[] ToTokenLogits(float[] indexLogits) => indexLogits;
    }
}
