using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Core.Util;
using NoirCode.Privacy.Egress;
using NoirCode.Privacy.Keys;
using NoirCode.Remote;
using NoirCode.Protocol;
using NoirCode.STuning;

namespace NoirCode.Endpoint.Tests;

/// <summary>noir tune's engine against a real endpoint: the loss falls, the shard is owner-only and bound to its keys, runs resume.</summary>
public class STuningClientTests
{
    [Test]
    public async Task SplitFineTuningLowersTheLossAndResumes()
    {
        await using var host = await EndpointFixture.StartAsync(o => o with { LearningRate = 3e-3 });
        var config = ModelConfig.Load(EndpointFixture.Client);
        var keys = Clients.FreshKeys();
        string keyDir = Path.Combine(EndpointFixture.Root, $"keys-{Guid.NewGuid():N}");
        keys.Save(keyDir);
        string outDir = Path.Combine(EndpointFixture.Root, $"tuned-{Guid.NewGuid():N}");
        var docs = new[] { RandomModelFactory.SampleCorpus() };
        var options = Clients.Options(new[] { host.Address });

        List<double> Tune(string source, int steps)
        {
            using var client = ClientModel.Load(source, untieHead: true);
            var loaded = PrivacyKeys.Load(keyDir, ModelFingerprint.Of(source));
            loaded.ApplyTo(client);
            var guard = new EgressGuard(config.HiddenSize, WireDtype.Float32);
            using var remote = new RemoteTrainingSession(options, guard, Clients.Fingerprint, config.HiddenSize);
            return new SplitFineTuner(client, loaded, remote, outDir).Run(docs, new TuneSettings(steps, 2, 48, 5e-3), NullProgress.Instance, source);
        }

        var first = Tune(EndpointFixture.Client, 24);
        Assert.That(first, Has.Count.EqualTo(24));
        Assert.That(first.TakeLast(6).Average(), Is.LessThan(first.Take(6).Average() * 0.9), "STuning lowers the loss under the keys");
        foreach (var f in Directory.GetFiles(outDir)) Assert.That(File.GetUnixFileMode(f), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite), f);
        Assert.That(ModelFingerprint.Of(outDir), Is.EqualTo(Clients.Fingerprint), "the tuned shard still names its model");

        var resumed = Tune(outDir, 26);
        Assert.That(resumed, Has.Count.EqualTo(26), "the second run continued from step 24");
        Assert.That(resumed.Take(24), Is.EqualTo(first));

        Assert.Throws<KeyMismatchException>(() => TunedShardBinding.Check(outDir, "another-key"));
        Assert.DoesNotThrow(() => TunedShardBinding.Check(outDir, keys.Metadata.KeyId));
        Assert.That(TunedShardBinding.WindowTokens(outDir), Is.EqualTo(48), "the window it was tuned on, for the sidecar's prompts");
    }
}
