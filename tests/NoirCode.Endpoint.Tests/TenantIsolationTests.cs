using Grpc.Core;
using NoirCode.Core.Generation;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Protocol;
using NoirCode.Remote;
using static TorchSharp.torch;

namespace NoirCode.Endpoint.Tests;

/// <summary>
/// One tenant cannot starve or exhaust the endpoint (issue 16 item 4): its KV and training memory quotas, the training
/// idle timeout and the token rate limit refuse it with ResourceExhausted and a message, while another tenant carries on;
/// and a long prefill takes turns with another tenant's decode steps.
/// </summary>
public class TenantIsolationTests
{
    const string Alice = "key-for-alice-0123456789", Bob = "key-for-bob-0123456789abc";
    static int Hidden => Clients.Client.Config.HiddenSize;
    static readonly Lazy<CloudShard> Cloud = new(() => CloudShard.Load(EndpointFixture.Cloud));

    static string TwoTenants()
    {
        string auth = Path.Combine(EndpointFixture.Root, $"auth-{Guid.NewGuid():N}");
        File.WriteAllText(auth, $"{Alice} alice\n{Bob} bob\n");
        File.SetUnixFileMode(auth, UnixFileMode.UserRead | UnixFileMode.UserWrite); // secrets are owner-only
        return auth;
    }

    static Task<EndpointHost> StartAsync(Func<EndpointOptions, EndpointOptions> configure) =>
        EndpointFixture.StartAsync(o => configure(o with { AuthFile = TwoTenants() }));

    static void AssertServes(Uri address, string key)
    {
        using var remote = Clients.Remote(Clients.Options(new[] { address }, apiKey: key));
        Assert.That(Clients.Generate(remote, "def ok():", 4).TokenIds, Has.Count.EqualTo(4), "the other tenant is served");
    }

    /// <summary>Sends requests on one stream until one is refused; the status it ends with.</summary>
    static async Task<RpcException> RefusedAsync<TRequest, TReply>(AsyncDuplexStreamingCall<TRequest, TReply> call, params TRequest[] requests)
    {
        try
        {
            foreach (var r in requests)
            {
                await call.RequestStream.WriteAsync(r);
                if (!await call.ResponseStream.MoveNext(CancellationToken.None)) Assert.Fail("the stream ended without an error status");
            }
        }
        catch (RpcException written)
        {
            try { while (await call.ResponseStream.MoveNext(CancellationToken.None)) { } }
            catch (RpcException status) { return status; }
            return written;
        }
        Assert.Fail("every request was accepted");
        return null!;
    }

    static AsyncDuplexStreamingCall<TrainRequest, TrainReply> RawTraining(Uri address, string key)
    {
        var connection = new EndpointConnection(address, Clients.Options(new[] { address }, apiKey: key));
        return connection.Client.Train(connection.Headers());
    }

    static async Task<TrainReply> ExchangeAsync(AsyncDuplexStreamingCall<TrainRequest, TrainReply> call, TrainRequest request)
    {
        await call.RequestStream.WriteAsync(request);
        Assert.That(await call.ResponseStream.MoveNext(CancellationToken.None), Is.True);
        return call.ResponseStream.Current;
    }

    static TrainRequest TrainOpen() => new() { Open = new TrainOpen { ModelFingerprint = Clients.Fingerprint } };

    static TrainRequest TrainForward(ulong id, int positions) =>
        new() { Forward = new TrainForward { SampleId = id, Hidden = Clients.Forward(0, positions, Hidden).Forward.Hidden } };

    [Test]
    public async Task TheKvQuotaRefusesOneTenantAndNotTheOther()
    {
        // Room for one session of 256 positions (what bob's client asks for) or two of 128.
        long quota = new SessionRegistry(new EndpointOptions { ShardFolder = EndpointFixture.Cloud }, Cloud.Value).BytesFor(256);
        await using var host = await StartAsync(o => o with { KvBytesPerTenant = quota });
        using var first = Clients.RawSession(host.Address, Alice);
        using var second = Clients.RawSession(host.Address, Alice);
        await Clients.ExchangeAsync(first, Clients.Open(maxLength: 128));
        await Clients.ExchangeAsync(second, Clients.Open(maxLength: 128));
        using var third = Clients.RawSession(host.Address, Alice);
        var e = await RefusedAsync(third, Clients.Open(maxLength: 128));
        Assert.That(e.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted));
        Assert.That(e.Status.Detail, Does.Contain("KV memory quota"));
        Assert.That((await Clients.ExchangeAsync(first, Clients.Forward(0, 3, Hidden))).KindCase, Is.EqualTo(SessionReply.KindOneofCase.Forward), "alice's open sessions still work");
        AssertServes(host.Address, Bob);
    }

    [Test]
    public void NonsensicalLimitsAreRefusedWithTheOptionNamed()
    {
        var ok = new EndpointOptions { ShardFolder = "x" };
        Assert.DoesNotThrow(() => EndpointHost.Validate(ok));
        foreach (var (bad, option) in new (EndpointOptions, string)[]
        {
            (ok with { PrefillChunkTokens = 0 }, "--prefill-chunk"),
            (ok with { TokensPerSecondPerTenant = 0 }, "--token-rate-limit"),
            (ok with { TokenBurstPerTenant = -1 }, "--token-burst"),
            (ok with { KvBytesPerTenant = -1 }, "--kv-per-tenant-mb"),
            (ok with { TrainingBytesPerTenant = -1 }, "--training-mb-per-tenant"),
            (ok with { MaxTrainingStreamsPerTenant = 0 }, "--max-training-streams-per-tenant"),
            (ok with { TrainingIdleTimeout = TimeSpan.Zero }, "--training-idle-timeout-s"),
        })
            Assert.That(Assert.Throws<ArgumentException>(() => EndpointHost.Validate(bad))!.Message, Does.Contain(option));
    }

    [Test]
    public async Task ByDefaultATenantMayReserveHalfTheKvBudgetWhenThereAreSeveral()
    {
        await using (var shared = await StartAsync(o => o))
            Assert.That(shared.State.Options.TenantKvQuota, Is.EqualTo(shared.State.Options.KvBudgetBytes / 2));
        await using (var single = await EndpointFixture.StartAsync())
            Assert.That(single.State.Options.TenantKvQuota, Is.EqualTo(single.State.Options.KvBudgetBytes), "one tenant may use it all");
    }

    [Test]
    public async Task TheTrainingMemoryQuotaCoversAllOfATenantsStreamsAndNotTheOtherTenant()
    {
        var shard = Cloud.Value;
        long twoSamples = 2 * TrainingMemory.BytesFor(shard.Config, shard.Middle.Count, 8);
        await using var host = await StartAsync(o => o with { TrainingBytesPerTenant = twoSamples, MaxTrainingStreamsPerTenant = 2 });
        using var alice = RawTraining(host.Address, Alice);
        await ExchangeAsync(alice, TrainOpen());
        await ExchangeAsync(alice, TrainForward(1, 8));
        await ExchangeAsync(alice, TrainForward(2, 8));
        Assert.That(host.State.Trainings.HeldBy("alice"), Is.EqualTo(twoSamples));

        // A second stream does not get around the quota: it is the tenant's, not the stream's.
        using var another = RawTraining(host.Address, Alice);
        await ExchangeAsync(another, TrainOpen());
        var e = await RefusedAsync(another, TrainForward(3, 8));
        Assert.That(e.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted));
        Assert.That(e.Status.Detail, Does.Contain("training memory quota"));
        // Nor do many streams: two open, a third is refused.
        using var second = RawTraining(host.Address, Alice);
        await ExchangeAsync(second, TrainOpen());
        using var third = RawTraining(host.Address, Alice);
        var streams = await RefusedAsync(third, TrainOpen());
        Assert.That(streams.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted));
        Assert.That(streams.Status.Detail, Does.Contain("training streams open"));

        using var bob = RawTraining(host.Address, Bob);
        await ExchangeAsync(bob, TrainOpen());
        Assert.That((await ExchangeAsync(bob, TrainForward(1, 8))).KindCase, Is.EqualTo(TrainReply.KindOneofCase.Forward), "bob trains");

        // A backward pass frees its sample's share: alice can send another.
        var gradient = new TrainRequest { Backward = new TrainBackward { SampleId = 1, Gradient = Clients.Forward(0, 8, Hidden, 0.01f).Forward.Hidden } };
        Assert.That((await ExchangeAsync(alice, gradient)).KindCase, Is.EqualTo(TrainReply.KindOneofCase.Backward));
        Assert.That((await ExchangeAsync(alice, TrainForward(4, 8))).KindCase, Is.EqualTo(TrainReply.KindOneofCase.Forward));
    }

    [Test]
    public async Task AnIdleTrainingStreamIsEndedAndItsGraphsFreed()
    {
        await using var host = await EndpointFixture.StartAsync(o => o with { TrainingIdleTimeout = TimeSpan.FromSeconds(2) });
        var connection = new EndpointConnection(host.Address, Clients.Options(new[] { host.Address }));
        using var call = connection.Client.Train(connection.Headers());
        await ExchangeAsync(call, TrainOpen());
        await ExchangeAsync(call, TrainForward(7, 8));
        Assert.That(host.State.Trainings.HeldBy(ApiKeys.LocalTenant), Is.GreaterThan(0), "a pending sample holds memory");
        var e = Assert.ThrowsAsync<RpcException>(async () => await call.ResponseStream.MoveNext(CancellationToken.None))!;
        Assert.That(e.StatusCode, Is.EqualTo(StatusCode.DeadlineExceeded));
        Assert.That(e.Status.Detail, Does.Contain("idle").And.Contain("1 samples awaiting a backward pass were dropped"));
        await EndpointSafetyTests.WaitFor(() => host.State.Trainings.Count == 0, "the stream left the registry");
        Assert.That(host.State.Trainings.HeldBy(ApiKeys.LocalTenant), Is.Zero, "its memory was given back");
    }

    [Test]
    public async Task TheTokenRateLimitCountsPositionsNotMessages()
    {
        // One position per second after a burst of 60: ten one-position steps and a 45-position prefill fit; 20 more do not.
        await using var host = await StartAsync(o => o with { TokensPerSecondPerTenant = 1, TokenBurstPerTenant = 60 });
        using var alice = Clients.RawSession(host.Address, Alice);
        await Clients.ExchangeAsync(alice, Clients.Open(maxLength: 128));
        for (int p = 0; p < 10; p++) await Clients.ExchangeAsync(alice, Clients.Forward(p, 1, Hidden));
        await Clients.ExchangeAsync(alice, Clients.Forward(10, 45, Hidden));
        var e = await RefusedAsync(alice, Clients.Forward(55, 20, Hidden));
        Assert.That(e.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted));
        Assert.That(e.Status.Detail, Does.Contain("token rate limit exceeded"));

        // Bob's bucket is his own; a single message larger than the burst could never pass, and says so.
        using var bob = Clients.RawSession(host.Address, Bob);
        await Clients.ExchangeAsync(bob, Clients.Open());
        Assert.That((await Clients.ExchangeAsync(bob, Clients.Forward(0, 50, Hidden))).KindCase, Is.EqualTo(SessionReply.KindOneofCase.Forward));
        using var tooLarge = Clients.RawSession(host.Address, Bob);
        await Clients.ExchangeAsync(tooLarge, Clients.Open(maxLength: 128));
        var large = await RefusedAsync(tooLarge, Clients.Forward(0, 61, Hidden));
        Assert.That(large.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted));
        Assert.That(large.Status.Detail, Does.Contain("more than this tenant's token rate limit allows at once"));
    }

    [Test]
    public async Task AnotherTenantsDecodeStepRunsBetweenTheChunksOfALongPrefill()
    {
        await using var host = await StartAsync(o => o with { PrefillChunkTokens = 8 });
        var worker = host.State.Worker;
        using var bob = Clients.Remote(Clients.Options(new[] { host.Address }, apiKey: Bob));
        using var alice = Clients.Remote(Clients.Options(new[] { host.Address }, apiKey: Alice));
        using (var bobPrompt = randn(1, 4, Hidden)) using (var p = arange(4)) bob.Forward(bobPrompt, p).Dispose();

        var turns = new List<WorkerTurn>();
        using var aliceStarted = new ManualResetEventSlim();
        using var bobQueued = new ManualResetEventSlim();
        bool bobWasQueued = false;
        Action<WorkerTurn> queued = t => { if (t is { Tenant: "bob", Kind: WorkerTurnKind.Decode }) bobQueued.Set(); };
        Action<WorkerTurn> starting = t =>
        {
            lock (turns) turns.Add(t);
            if (t is not { Tenant: "alice", Kind: WorkerTurnKind.Job, Slice: 0, Slices: 4 }) return;
            aliceStarted.Set();
            // Holds the first chunk until bob's step is queued: the order below does not depend on timing.
            bobWasQueued = bobQueued.Wait(TimeSpan.FromSeconds(20));
        };
        worker.Queued += queued;
        worker.Starting += starting;
        using var prompt = randn(1, 32, Hidden);
        using var positions = arange(32);
        Tensor aliceOut;
        try
        {
            var prefill = Task.Run(() => alice.Forward(prompt, positions));
            Assert.That(aliceStarted.Wait(TimeSpan.FromSeconds(20)), Is.True, "alice's prefill started");
            using (var step = randn(1, 1, Hidden)) using (var p = arange(4, 5)) bob.Forward(step, p).Dispose();
            aliceOut = await prefill;
        }
        finally
        {
            worker.Queued -= queued;
            worker.Starting -= starting;
        }
        using var _ = aliceOut;
        Assert.That(bobWasQueued, Is.True, "bob's decode step was queued while alice's first chunk ran");

        List<WorkerTurn> seen;
        lock (turns) seen = turns.ToList();
        Assert.That(seen, Is.EqualTo(new[]
        {
            new WorkerTurn("alice", WorkerTurnKind.Job, 0, 4),
            new WorkerTurn("bob", WorkerTurnKind.Decode, 0, 1),
            new WorkerTurn("alice", WorkerTurnKind.Job, 1, 4),
            new WorkerTurn("alice", WorkerTurnKind.Job, 2, 4),
            new WorkerTurn("alice", WorkerTurnKind.Job, 3, 4),
        }), "bob's decode step ran after alice's first chunk, not after her whole prompt");

        // Chunking changes when the prompt runs, not what it computes.
        using var local = new LocalMiddleSession(Cloud.Value);
        using var whole = local.Forward(prompt, positions);
        Assert.That((aliceOut - whole).abs().max().item<float>(), Is.LessThan(1e-4f), "the chunked prefill gives the unchunked result");
    }

    [Test]
    public async Task TwoTenantsLongPrefillsTakeTurnsChunkByChunk()
    {
        await using var host = await StartAsync(o => o with { PrefillChunkTokens = 8 });
        var worker = host.State.Worker;
        using var bob = Clients.Remote(Clients.Options(new[] { host.Address }, apiKey: Bob));
        using var alice = Clients.Remote(Clients.Options(new[] { host.Address }, apiKey: Alice));

        var turns = new List<WorkerTurn>();
        using var bobQueued = new ManualResetEventSlim();
        using var aliceStarted = new ManualResetEventSlim();
        bool bobWasQueued = false;
        Action<WorkerTurn> queued = t => { if (t is { Tenant: "bob", Kind: WorkerTurnKind.Job, Slices: 2 }) bobQueued.Set(); };
        Action<WorkerTurn> starting = t =>
        {
            lock (turns) turns.Add(t);
            if (t is not { Tenant: "alice", Slice: 0, Slices: 4 }) return;
            aliceStarted.Set();
            bobWasQueued = bobQueued.Wait(TimeSpan.FromSeconds(20)); // bob's prompt arrives while alice's first chunk runs
        };
        worker.Queued += queued;
        worker.Starting += starting;
        try
        {
            using var alicePrompt = randn(1, 32, Hidden);
            using var alicePositions = arange(32);
            using var bobPrompt = randn(1, 16, Hidden);
            using var bobPositions = arange(16);
            var alicePrefill = Task.Run(() => alice.Forward(alicePrompt, alicePositions));
            Assert.That(aliceStarted.Wait(TimeSpan.FromSeconds(20)), Is.True, "alice's prefill started");
            bob.Forward(bobPrompt, bobPositions).Dispose();
            (await alicePrefill).Dispose();
        }
        finally
        {
            worker.Queued -= queued;
            worker.Starting -= starting;
        }
        Assert.That(bobWasQueued, Is.True);
        List<WorkerTurn> seen;
        lock (turns) seen = turns.ToList();
        Assert.That(seen.Select(t => $"{t.Tenant} {t.Slice + 1}/{t.Slices}"), Is.EqualTo(new[]
        {
            "alice 1/4", "bob 1/2", "alice 2/4", "bob 2/2", "alice 3/4", "alice 4/4",
        }), "the tenants' chunks alternate: bob's shorter prompt is done before alice's");
    }
}
