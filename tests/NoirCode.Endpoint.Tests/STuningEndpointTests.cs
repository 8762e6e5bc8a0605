using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Privacy.Egress;
using NoirCode.Remote;
using static TorchSharp.torch;
using NoirCode.Protocol;

namespace NoirCode.Endpoint.Tests;

/// <summary>One STuning step through the endpoint changes that tenant's LoRA, and nobody else's.</summary>
public class STuningEndpointTests
{
    [Test]
    public async Task OneStepChangesOnlyThatTenantsAdapter()
    {
        string auth = Path.Combine(EndpointFixture.Root, $"auth-{Guid.NewGuid():N}");
        File.WriteAllText(auth, "key-for-alice-0123456789 alice\nkey-for-bob-0123456789abc bob\n");
        File.SetUnixFileMode(auth, UnixFileMode.UserRead | UnixFileMode.UserWrite); // secrets are owner-only
        string state = Path.Combine(EndpointFixture.Root, $"state-{Guid.NewGuid():N}");
        await using var host = await EndpointFixture.StartAsync(o => o with { AuthFile = auth, StateFolder = state, LearningRate = 0.05 });
        int hidden = Clients.Client.Config.HiddenSize;
        using var probe = randn(1, 6, hidden);
        using var positions = arange(6);

        Tensor Middle(string key)
        {
            using var remote = Clients.Remote(Clients.Options(new[] { host.Address }, apiKey: key));
            return remote.Forward(probe, positions);
        }

        using var aliceBefore = Middle("key-for-alice-0123456789");
        using var bobBefore = Middle("key-for-bob-0123456789abc");
        Assert.That((aliceBefore - bobBefore).abs().max().item<float>(), Is.LessThan(1e-5f), "untrained tenants see the base model");

        var options = Clients.Options(new[] { host.Address }, apiKey: "key-for-alice-0123456789");
        var guard = new EgressGuard(hidden, WireDtype.Float32);
        using (var training = new RemoteTrainingSession(options, guard, Clients.Fingerprint, hidden))
        {
            Assert.That(training.StepsSoFar, Is.Zero);
            for (ulong sample = 0; sample < 2; sample++)
            {
                using var x = randn(1, 5, hidden);
                using var y = training.Forward(sample, x);
                Assert.That(y.shape, Is.EqualTo(new long[] { 1, 5, hidden }));
                using var grad = ones_like(y);
                using var inputGrad = training.Backward(sample, grad);
                Assert.That(inputGrad.shape, Is.EqualTo(new long[] { 1, 5, hidden }));
                Assert.That(inputGrad.abs().sum().item<float>(), Is.GreaterThan(0), "the gradient reaches the encoder output");
            }
            Assert.That(training.Step(), Is.EqualTo(1));
        }
        Assert.That(guard.Last.Tokens, Is.EqualTo(5), "gradients pass the egress guard too");

        using var aliceAfter = Middle("key-for-alice-0123456789");
        using var bobAfter = Middle("key-for-bob-0123456789abc");
        Assert.That((aliceAfter - aliceBefore).abs().max().item<float>(), Is.GreaterThan(1e-4f), "alice's adapter changed her outputs");
        Assert.That((bobAfter - bobBefore).abs().max().item<float>(), Is.LessThan(1e-6f), "bob's outputs are untouched");

        string saved = Path.Combine(state, "tenants", "alice", "adapter.safetensors");
        Assert.That(File.Exists(saved), Is.True, "the adapter is kept on the endpoint");
        Assert.That(File.GetUnixFileMode(saved), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
        Assert.That(Directory.Exists(Path.Combine(state, "tenants", "bob")), Is.False);
    }

    [Test]
    public async Task AStepWithZeroGradientsIsCountedButMovesNothing()
    {
        // Forward-only STuning sends zeros for every boundary gradient: the endpoint counts the client's step, but
        // AdamW must not move the adapter on momentum or weight decay alone.
        string state = Path.Combine(EndpointFixture.Root, $"state-{Guid.NewGuid():N}");
        await using var host = await EndpointFixture.StartAsync(o => o with { StateFolder = state, LearningRate = 0.05 });
        int hidden = Clients.Client.Config.HiddenSize;
        using var probe = randn(1, 6, hidden);
        using var positions = arange(6);
        var options = Clients.Options(new[] { host.Address });
        Tensor Middle() { using var remote = Clients.Remote(options); return remote.Forward(probe, positions); }
        long Step(Func<Tensor, Tensor> gradient)
        {
            using var training = new RemoteTrainingSession(options, new EgressGuard(hidden, WireDtype.Float32), Clients.Fingerprint, hidden);
            using var x = randn(1, 5, hidden);
            using var y = training.Forward(0, x);
            using var grad = gradient(y);
            using var _ = training.Backward(0, grad);
            return training.Step();
        }

        Assert.That(Step(y => ones_like(y)), Is.EqualTo(1));
        using var afterRealStep = Middle();
        Assert.That(Step(y => zeros_like(y)), Is.EqualTo(2), "the step is counted");
        using var afterZeroStep = Middle();
        Assert.That((afterZeroStep - afterRealStep).abs().max().item<float>(), Is.EqualTo(0f), "zero gradients move nothing, not even by momentum");
        Assert.That(Step(y => ones_like(y)), Is.EqualTo(3));
        using var afterAnother = Middle();
        Assert.That((afterAnother - afterZeroStep).abs().max().item<float>(), Is.GreaterThan(1e-5f), "a real gradient still trains it");
    }

    [Test]
    public void BatchedDecodeWithAdaptersEqualsOneSessionAtATime()
    {
        var shard = CloudShard.Load(EndpointFixture.Cloud);
        var lora = new LoraAdapter(shard.Config, Enumerable.Range(shard.Middle.First, shard.Middle.Count), seed: 3);
        using (no_grad()) foreach (var p in lora.parameters()) p.add_(randn_like(p) * 0.1);
        using var _ = no_grad();
        var caches = new[] { shard.Middle.NewCache(), shard.Middle.NewCache(), shard.Middle.NewCache() };
        var reference = new[] { shard.Middle.NewCache(), shard.Middle.NewCache(), shard.Middle.NewCache() };
        var adapters = new LoraAdapter?[] { null, lora, null };
        int hidden = shard.Config.HiddenSize;
        for (int r = 0; r < 3; r++) // different history lengths per row
        {
            using var prefix = randn(1, 3 + 2 * r, hidden);
            using var pos = arange(3 + 2 * r);
            shard.Middle.Forward(prefix, pos, caches[r], adapters[r]).Dispose();
            shard.Middle.Forward(prefix, pos, reference[r], adapters[r]).Dispose();
        }
        using var step = randn(3, 1, hidden);
        using var batched = shard.Middle.ForwardDecodeBatch(step, caches.Select(c => c.Length).ToArray(), caches, adapters);
        for (int r = 0; r < 3; r++)
        {
            using var one = shard.Middle.Forward(step.narrow(0, r, 1), arange(reference[r].Length, reference[r].Length + 1), reference[r], adapters[r]);
            Assert.That((batched.narrow(0, r, 1) - one).abs().max().item<float>(), Is.LessThan(1e-5f), $"row {r}");
        }
    }
}
