using NoirCode.Attack.Attacks;
using NoirCode.Attack.Evaluation;
using NoirCode.Attack.Wire;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Core.Util;
using NoirCode.Privacy.Keys;
using static TorchSharp.torch;

namespace NoirCode.Attack.Tests;

/// <summary>
/// The validation the issue asks for: an attack that fails on the unprotected split proves nothing when it fails
/// against NOIR. The unprotected split (no INDVocab, no LTokenizer) must be cracked: CRT ≥ 0.9.
/// </summary>
public class InversionTests
{
    static ClientUnderTest Unprotected() => new("unprotected", ClientModel.Load(AttackFixture.Model, SplitSpec.Default), keys: null);

    static ClientUnderTest Keyed(double epsilon = 13)
    {
        var client = ClientModel.Load(AttackFixture.Model, SplitSpec.Default, untieHead: true);
        var (embedding, dtype) = PrivacyKeys.ReadEmbedding(AttackFixture.Model, client.Config);
        var (keys, _) = PrivacyKeys.Generate(embedding, client.Config, ModelFingerprint.Of(AttackFixture.Model), epsilon, tableDtype: dtype);
        return new ClientUnderTest("keyed", client, keys);
    }

    static SettingResult Attack(ClientUnderTest client, params ICloudAttack[] attacks) =>
        new PrivacyEvaluation(AttackFixture.Knowledge, attacks, new NullProgress()).Run(client, AttackFixture.Private, epsilon: null, tuned: false);

    [Test]
    public void Both_inversions_crack_the_unprotected_split()
    {
        var learned = new LearnedInversion(AttackFixture.Knowledge, AttackFixture.Nn, new LearnedInversion.Settings(Epochs: 1), new NullProgress());
        using var client = Unprotected();
        var result = Attack(client, AttackFixture.Nn, learned, new FrequencyGuessBaseline(AttackFixture.Knowledge));
        foreach (var a in result.Attacks.Where(a => a.Attack != "frequency-guess"))
        {
            Assert.That(a.Prompt.Crt, Is.GreaterThanOrEqualTo(0.9), $"{a.Attack} prompts");
            Assert.That(a.Code.Crt, Is.GreaterThanOrEqualTo(0.9), $"{a.Attack} code");
            Assert.That(a.Prompt.ContentCrt, Is.GreaterThanOrEqualTo(0.9), $"{a.Attack} prompt content");
            Assert.That(a.Prompt.Asr, Is.EqualTo(1.0), $"{a.Attack} ASR");
            Assert.That(a.Leak, Is.GreaterThan(0.9), $"{a.Attack} leak");
        }
        // And the baseline, which never looks at the traffic, recovers far less content.
        Assert.That(result.Attacks.Single(a => a.Attack == "frequency-guess").Prompt.ContentCrt, Is.LessThan(0.5));
    }

    [Test]
    public void Code_reconstruction_through_the_public_decoder_beats_guessing_on_the_unprotected_split()
    {
        using var client = Unprotected();
        var result = Attack(client, new CodeReconstruction(AttackFixture.Knowledge), new FrequencyGuessBaseline(AttackFixture.Knowledge));
        var code = result.Attacks[0];
        Assert.That(code.Prompt.ContentCrt, Is.GreaterThan(result.Attacks[1].Prompt.ContentCrt));
        Assert.That(code.Prompt.PositionAccuracy, Is.GreaterThan(0.2));
    }

    [Test]
    public void Keys_defeat_per_token_inversion_and_code_reconstruction()
    {
        using var client = Keyed();
        var result = Attack(client, AttackFixture.Nn, new CodeReconstruction(AttackFixture.Knowledge));
        Assert.That(result.Attacks[0].Prompt.Crt, Is.LessThan(0.05));
        Assert.That(result.Attacks[0].Prompt.ContentAsr, Is.EqualTo(0));
        Assert.That(result.Attacks[1].Prompt.PositionAccuracy, Is.LessThan(0.05));
    }

    [Test]
    public void The_cloud_view_is_the_encoder_output_as_the_guard_encodes_it()
    {
        using var client = Unprotected();
        var tokens = AttackFixture.Private[0].Tokens;
        using var view = client.CloudView(tokens);
        using var _ = no_grad();
        using var encoded = client.Client.FirstBlocks(tensor(tokens.Select(t => (long)t).ToArray()).unsqueeze(0), arange(tokens.Length), null)[0];
        Assert.That(view.shape, Is.EqualTo(new long[] { tokens.Length, client.Client.Config.HiddenSize }));
        Assert.That(view.dtype, Is.EqualTo(ScalarType.Float32));
        using var expected = encoded.to(ScalarType.Float16).to(ScalarType.Float32);
        Assert.That(view.eq(expected).all().item<bool>(), Is.True, "fp16 wire rounding, nothing else");
    }

    [Test]
    public void Clustering_recovers_the_fixed_substitution_under_keys()
    {
        // The open problem (paper §8): one fixed INDVocab makes the traffic a substitution cipher. This measures
        // that the cloud's clustering, calibrated only on its own simulation, finds its symbols.
        using var client = Keyed();
        var views = AttackFixture.Private.Select(s => client.CloudView(s.Tokens)).ToList();
        var attack = new ClusterFrequencyAttack(AttackFixture.Knowledge, sequenceLevel: false, new ClusterFrequencyAttack.Settings(), new NullProgress());
        attack.Reconstruct(views);
        var truth = AttackFixture.Private.Select(s => s.Tokens).ToList();
        Assert.That(attack.LastClusters!.Purity(truth), Is.GreaterThan(0.9));
        Assert.That(attack.LastClusters!.Completeness(truth), Is.GreaterThan(0.9));
        foreach (var v in views) v.Dispose();
    }
}
