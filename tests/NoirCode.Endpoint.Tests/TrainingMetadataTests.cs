using NoirCode.Attack.Wire;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Core.Util;
using NoirCode.Privacy.Egress;
using NoirCode.Protocol;
using NoirCode.STuning;

namespace NoirCode.Endpoint.Tests;

/// <summary>What STuning's sample ids tell the endpoint (issue 16 item 10): nothing; step boundaries come only from the step messages.</summary>
public class TrainingMetadataTests
{
    [Test]
    public async Task SampleIdsAreRandomAndSayNothingOfTheStepOrBatch()
    {
        await using var host = await EndpointFixture.StartAsync();
        var config = ModelConfig.Load(EndpointFixture.Client);
        var keys = Clients.FreshKeys();
        using var client = Clients.KeyedClient(keys);
        var guard = new EgressGuard(config.HiddenSize, WireDtype.Float32);
        using var remote = Clients.Training(host.Address, guard);
        using var capture = new TrainingCapture(guard, remote);
        var ids = new List<ulong>();
        remote.MiddleReceived += (id, _) => ids.Add(id);
        string outDir = Path.Combine(EndpointFixture.Root, $"tuned-{Guid.NewGuid():N}");
        new SplitFineTuner(client, keys, remote, outDir).Run(new[] { RandomModelFactory.SampleCorpus() }, new TuneSettings(2, 3, 16, 1e-3), NullProgress.Instance, EndpointFixture.Client);

        Assert.That(ids, Has.Count.EqualTo(6));
        Assert.That(ids.Distinct().Count(), Is.EqualTo(6), "each sample has its own id");
        // A counted id (step·1000 + b, or any small counter) stays below 2^32; a random 64-bit id does with odds 2^-32.
        Assert.That(ids.All(id => id >= 1UL << 32), Is.True, $"ids {string.Join(", ", ids)} look counted");
        Assert.That(ids.Zip(ids.Skip(1)).All(p => p.Second - p.First is > 1000 and < ulong.MaxValue - 1000), Is.True, "no id follows from the one before");
        // The endpoint (and the attack harness standing in for it) still knows which step each sample belongs to.
        Assert.That(capture.Samples.Select(s => s.Step), Is.EqualTo(new[] { 0, 0, 0, 1, 1, 1 }));
    }
}
