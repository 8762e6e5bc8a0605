using NoirCode.Core.Generation;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using static TorchSharp.torch;

namespace NoirCode.Endpoint.Tests;

/// <summary>
/// The endpoint keeps sessions' KV caches in one pool and attends their decode steps as one batch: concurrent
/// sessions of different lengths, rolled back now and then, and new sessions in the slots that closed ones gave back,
/// each get what the middle gives that session alone.
/// </summary>
public class PooledSessionsEndpointTests
{
    /// <summary>What one session sent (a forward at positions, or a rollback) and what came back.</summary>
    sealed record Call(Tensor? Hidden, long Start, long Truncate, Tensor? Output);

    static List<Call> RunSession(Uri address, int seed, int hidden)
    {
        var calls = new List<Call>();
        var g = new Generator((ulong)seed);
        using var _ = no_grad();
        using var remote = Clients.Remote(Clients.Options(new[] { address }));
        long length = 0;
        void Forward(int tokens)
        {
            var x = randn(new long[] { 1, tokens, hidden }, generator: g);
            using var positions = arange(length, length + tokens);
            calls.Add(new Call(x, length, -1, remote.Forward(x, positions)));
            length += tokens;
        }
        Forward(2 + 5 * (seed % 7));
        for (int step = 0; step < 10; step++)
        {
            if (step == 4 || step == 7)
            {
                length -= 1 + seed % 3; // a rejected draft rolled back
                remote.Truncate(length);
                calls.Add(new Call(null, -1, length, null));
            }
            Forward(step == 8 ? 3 : 1); // mostly decode steps (batched with other sessions'), one short speculative step
        }
        return calls;
    }

    [Test]
    public async Task ConcurrentSessionsWithRollbacksAndReusedSlotsEachEqualTheMiddleAlone()
    {
        await using var host = await EndpointFixture.StartAsync();
        using var shard = CloudShard.Load(EndpointFixture.Cloud);
        int hidden = shard.Config.HiddenSize;
        // Two rounds of eight: the second round's sessions take the slots that the first round's gave back. A session
        // kept open across both keeps their shelf of slots alive (a shelf whose last session closes is freed).
        var sessions = new List<(int Seed, List<Call> Calls)>();
        using (var keeper = Clients.Remote(Clients.Options(new[] { host.Address })))
        {
            using (no_grad())
            using (var x = randn(1, 1, hidden))
            using (var at = arange(0, 1))
                keeper.Forward(x, at).Dispose();
            for (int round = 0; round < 2; round++)
            {
                int[] seeds = Enumerable.Range(8 * round, 8).ToArray();
                var done = await Task.WhenAll(seeds.Select(s => Task.Run(() => RunSession(host.Address, s, hidden))));
                sessions.AddRange(seeds.Zip(done));
            }
        }
        // Every one-token step went through the batched decode: 9 per session, and the keeper's.
        var rows = System.Text.RegularExpressions.Regex.Match(host.State.Metrics.Render(), @"noir_decode_rows_total (\d+)");
        Assert.That(rows.Success ? long.Parse(rows.Groups[1].Value) : 0, Is.GreaterThanOrEqualTo(16 * 9 + 1));
        using var _ = no_grad();
        foreach (var (seed, calls) in sessions)
        {
            using var alone = new LocalMiddleSession(shard);
            foreach (var call in calls)
            {
                if (call.Hidden is null) { alone.Truncate(call.Truncate); continue; }
                using var positions = arange(call.Start, call.Start + call.Hidden.shape[1]);
                using var expected = alone.Forward(call.Hidden, positions);
                using var diff = (call.Output! - expected).abs().max();
                float error = diff.item<float>();
                Assert.That(float.IsNaN(error) ? float.PositiveInfinity : error, Is.LessThan(1e-5f), $"session {seed}, positions from {call.Start}");
                call.Hidden.Dispose(); call.Output!.Dispose();
            }
        }
    }
}
