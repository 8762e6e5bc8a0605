using NoirCode.Attack.Attacks;
using NoirCode.Attack.Wire;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Core.Training;
using NoirCode.Core.Util;
using NoirCode.Privacy.Egress;
using NoirCode.Privacy.Keys;
using NoirCode.STuning.LabelProtection;
using NoirCode.Protocol;
using NoirCode.STuning;

namespace NoirCode.Endpoint.Tests;

/// <summary>
/// STuning's boundary gradients against the cloud: the real tuner under keys against a real endpoint, captured at
/// the egress guard. At step 0 the client's decoder is the public one, so the cloud solves every label exactly
/// (each one a cipher symbol of the LTokenizer); with a decoder it does not know, the same attack fails.
/// </summary>
public class STuningLabelLeakTests
{
    [Test]
    public async Task GradientsAtStepZeroGiveAwayEveryLabel()
    {
        await using var host = await EndpointFixture.StartAsync();
        var config = ModelConfig.Load(EndpointFixture.Client);
        var keys = Clients.FreshKeys();
        var docs = new[] { RandomModelFactory.SampleCorpus() };
        // The undefended baseline: the exact gradient leaves (the default protection is measured in STuningLabelProtectionTests).
        var settings = new TuneSettings(Steps: 1, Batch: 2, SequenceLength: 40, LearningRate: 5e-3) { LabelProtection = LabelProtectionSettings.None };

        using var client = Clients.KeyedClient(keys);
        var guard = new EgressGuard(config.HiddenSize, WireDtype.Float32);
        using var remote = Clients.Training(host.Address, guard);
        using var capture = new TrainingCapture(guard, remote);
        new SplitFineTuner(client, keys, remote, Path.Combine(EndpointFixture.Root, $"tuned-{Guid.NewGuid():N}"))
            .Run(docs, settings, NullProgress.Instance, EndpointFixture.Client);
        Assert.That(capture.Samples, Has.Count.EqualTo(2), "one middle output and one gradient per sample");

        var truth = TuningLabels.Of(docs, client.Tokenizer, settings, keys.Permutation, step: 0);
        using var publicDecoder = ClientModel.Load(EndpointFixture.Client, untieHead: true);
        var attack = new GradientLabelRecovery(publicDecoder);
        int labelled = 0, exact = 0;
        for (int b = 0; b < capture.Samples.Count; b++)
        {
            var (_, middle, gradient) = capture.Samples[b];
            var recovered = attack.Recover(middle, gradient);
            for (int i = 0; i < truth[b].Length; i++)
                if (truth[b][i] != FimSampler.IgnoreIndex) { labelled++; if (recovered[i] == truth[b][i]) exact++; }
        }
        Assert.That(labelled, Is.GreaterThan(40));
        Assert.That(exact, Is.EqualTo(labelled), "every label of step 0, exactly, from the public decoder");

        // The check can fail: a decoder the cloud does not have (another model's) recovers next to nothing.
        string other = Path.Combine(EndpointFixture.Root, $"other-{Guid.NewGuid():N}");
        RandomModelFactory.Create(other, "tiny-llama", seed: 99);
        using var unknown = ClientModel.Load(other, new SplitSpec(1, 2), untieHead: true);
        var (middle0, gradient0) = (capture.Samples[0].Middle, capture.Samples[0].Gradient);
        var wrong = new GradientLabelRecovery(unknown).Recover(middle0, gradient0);
        int hits = truth[0].Select((y, i) => y != FimSampler.IgnoreIndex && wrong[i] == y ? 1 : 0).Sum();
        Assert.That(hits, Is.LessThan(truth[0].Count(y => y != FimSampler.IgnoreIndex) / 4));
    }
}
