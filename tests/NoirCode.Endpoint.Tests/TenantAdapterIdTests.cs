using Grpc.Core;
using NoirCode.Privacy.Egress;
using NoirCode.Protocol;
using NoirCode.Remote;
using static TorchSharp.torch;

namespace NoirCode.Endpoint.Tests;

/// <summary>
/// A tenant's adapters are named per key (adapter_id): training one leaves the others and the unnamed one as they
/// were, a session runs the adapter it names, and an id that could leave the state folder is refused.
/// </summary>
public class TenantAdapterIdTests
{
    [Test]
    public async Task EachAdapterIdIsItsOwnAdapterAndABadIdIsRefused()
    {
        string state = Path.Combine(EndpointFixture.Root, $"state-{Guid.NewGuid():N}");
        await using var host = await EndpointFixture.StartAsync(o => o with { StateFolder = state, LearningRate = 0.05 });
        int hidden = Clients.Client.Config.HiddenSize;
        using var probe = randn(1, 6, hidden);
        using var positions = arange(6);
        Tensor Middle(string adapterId)
        {
            using var remote = Clients.Remote(Clients.Options(new[] { host.Address }) with { AdapterId = adapterId });
            return remote.Forward(probe, positions);
        }

        using var baseline = Middle("");
        var options = Clients.Options(new[] { host.Address }) with { AdapterId = "k-new" };
        using (var training = new RemoteTrainingSession(options, new EgressGuard(hidden, Protocol.WireDtype.Float32), Clients.Fingerprint, hidden))
        {
            Assert.That(training.StepsSoFar, Is.Zero, "a new id starts a fresh adapter");
            using var x = randn(1, 5, hidden);
            using var y = training.Forward(0, x);
            using var g = ones_like(y);
            training.Backward(0, g).Dispose();
            Assert.That(training.Step(), Is.EqualTo(1));
        }

        using var named = Middle("k-new");
        using var other = Middle("k-other");
        using var unnamed = Middle("");
        Assert.That((named - baseline).abs().max().item<float>(), Is.GreaterThan(1e-4f), "the named adapter runs for sessions that name it");
        Assert.That((other - baseline).abs().max().item<float>(), Is.LessThan(1e-6f), "another key's id: the base middle");
        Assert.That((unnamed - baseline).abs().max().item<float>(), Is.LessThan(1e-6f), "the unnamed adapter is untouched");
        Assert.That(File.Exists(Path.Combine(state, "tenants", "local", "adapters", "k-new", "adapter.safetensors")), Is.True);
        Assert.That(File.Exists(Path.Combine(state, "tenants", "local", "adapter.safetensors")), Is.False);

        var call = Clients.RawSession(host.Address);
        var refused = Assert.ThrowsAsync<RpcException>(async () => await Clients.ExchangeAsync(call, new SessionRequest
        {
            Open = new OpenSession { ModelFingerprint = Clients.Fingerprint, MaxLength = 8, AdapterId = "../../etc" },
        }))!;
        Assert.That(refused.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(refused.Status.Detail, Does.Contain("adapter_id"));
        Assert.That(Directory.Exists(Path.Combine(state, "etc")), Is.False);
    }
}
