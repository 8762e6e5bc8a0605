using NoirCode.Core.Model;
using NoirCode.Core.Split;
using static TorchSharp.torch;

namespace NoirCode.Core.Tests;

/// <summary>
/// The endpoint's batched decode over a <see cref="KvPool"/> (<see cref="BatchedDecodeAttention"/>): N sessions of
/// different lengths decoded as one batch give what each gives decoded alone, with and without adapters, across a
/// truncation, for every attention strategy; a slot given back and taken again shows nothing of its last session.
/// </summary>
public class PooledDecodeBatchTests
{
    const float Tolerance = 1e-5f;

    static IEnumerable<TestCaseData> Cases() =>
        from preset in new[] { "tiny", "tiny-llama" }
        from strategy in Enum.GetValues<DecodeAttention>()
        select new TestCaseData(preset, strategy).SetName($"{{m}}({preset}, {strategy})");

    /// <summary>A session decoded in the pool next to a reference decoded alone in a cache of its own.</summary>
    sealed class Pair(KvCache pooled, KvCache alone, LoraAdapter? lora) : IDisposable
    {
        public KvCache Pooled { get; } = pooled;
        public KvCache Alone { get; } = alone;
        public LoraAdapter? Lora { get; } = lora;
        public void Dispose() { Pooled.Dispose(); Alone.Dispose(); }
    }

    /// <summary>The middle blocks' pool, attending the way under test.</summary>
    static KvPool PoolOf(CloudShard shard, DecodeAttention strategy)
    {
        var pool = shard.Middle.NewPool();
        pool.Attention = strategy;
        return pool;
    }

    static Pair Open(CloudShard shard, KvPool pool, int maxLength, int prefill, LoraAdapter? lora, Generator g)
    {
        var pair = new Pair(pool.Open(maxLength), shard.Middle.NewCache(), lora);
        Prefill(shard, pair, prefill, g);
        return pair;
    }

    static void Prefill(CloudShard shard, Pair pair, int positions, Generator g)
    {
        using var x = randn(new long[] { 1, positions, shard.Config.HiddenSize }, generator: g);
        using var p = arange(pair.Alone.Length, pair.Alone.Length + positions);
        using var a = shard.Middle.Forward(x, p, pair.Pooled, pair.Lora);
        using var b = shard.Middle.Forward(x, p, pair.Alone, pair.Lora);
        Assert.That(Diff(a, b), Is.LessThan(Tolerance), "a prefill into a pool slot equals one into a cache of its own");
    }

    /// <summary>One batched step of all <paramref name="pairs"/>, checked row by row against each decoded alone.</summary>
    static void Step(CloudShard shard, IReadOnlyList<Pair> pairs, Generator g, string what)
    {
        using var x = randn(new long[] { pairs.Count, 1, shard.Config.HiddenSize }, generator: g);
        using var batched = shard.Middle.ForwardDecodeBatch(x, pairs.Select(p => p.Pooled.Length).ToArray(),
            pairs.Select(p => p.Pooled).ToArray(), pairs.Select(p => p.Lora).ToArray());
        for (int r = 0; r < pairs.Count; r++)
        {
            long at = pairs[r].Alone.Length;
            using var row = x.narrow(0, r, 1);
            using var position = arange(at, at + 1);
            using var alone = shard.Middle.Forward(row, position, pairs[r].Alone, pairs[r].Lora);
            using var got = batched.narrow(0, r, 1);
            Assert.That(Diff(got, alone), Is.LessThan(Tolerance), $"{what}: row {r} (position {at})");
            Assert.That(pairs[r].Pooled.Length, Is.EqualTo(pairs[r].Alone.Length));
        }
    }

    /// <summary>The largest difference; infinite when either holds a NaN (NUnit orders NaN below every number).</summary>
    static float Diff(Tensor a, Tensor b)
    {
        using var d = (a - b).abs().max();
        float value = d.item<float>();
        return float.IsNaN(value) ? float.PositiveInfinity : value;
    }

    static LoraAdapter Adapter(CloudShard shard, int seed)
    {
        var lora = new LoraAdapter(shard.Config, Enumerable.Range(shard.Middle.First, shard.Middle.Count), seed: seed);
        using (no_grad()) foreach (var p in lora.parameters()) p.add_(randn_like(p) * 0.1);
        return lora;
    }

    [TestCaseSource(nameof(Cases))]
    public void BatchedDecodeOfSessionsOfDifferentLengthsEqualsEachAlone(string preset, DecodeAttention strategy)
    {
        using var shard = CloudShard.Load(TestModels.Get(preset));
        using var _ = no_grad();
        using var pool = PoolOf(shard, strategy);
        var g = new Generator(11);
        // Two capacities (two shelves, so the batch runs as two groups), lengths 1 to 70, slots out of batch order.
        var pairs = new[] { (200, 9), (64, 1), (200, 70), (64, 33), (200, 2) }.Select(s => Open(shard, pool, s.Item1, s.Item2, null, g)).ToList();
        try
        {
            for (int step = 0; step < 3; step++) Step(shard, pairs, g, $"step {step}");
            Step(shard, pairs.Where((_, i) => i % 2 == 0).Reverse().ToList(), g, "a batch of some of them, in another order");
            Step(shard, pairs.Take(1).ToList(), g, "a batch of one");
        }
        finally { foreach (var p in pairs) p.Dispose(); }
        Assert.That(pool.LiveSlots, Is.EqualTo(0));
        Assert.That(pool.AllocatedBytes, Is.EqualTo(0), "a shelf whose sessions all closed is freed");
    }

    [TestCaseSource(nameof(Cases))]
    public void BatchedDecodeWithAdaptersEqualsEachAlone(string preset, DecodeAttention strategy)
    {
        using var shard = CloudShard.Load(TestModels.Get(preset));
        var alice = Adapter(shard, 1);
        var bob = Adapter(shard, 2);
        using var _ = no_grad();
        using var pool = PoolOf(shard, strategy);
        var g = new Generator(12);
        var adapters = new[] { alice, null, bob, alice, bob, null };
        var pairs = adapters.Select((a, i) => Open(shard, pool, 128, 3 + 5 * i, a, g)).ToList();
        try
        {
            for (int step = 0; step < 3; step++) Step(shard, pairs, g, $"step {step}");
            Step(shard, new[] { pairs[0], pairs[3] }, g, "rows that share one adapter");
        }
        finally { foreach (var p in pairs) p.Dispose(); }
    }

    [TestCaseSource(nameof(Cases))]
    public void BatchedDecodeAcrossATruncationEqualsEachAlone(string preset, DecodeAttention strategy)
    {
        using var shard = CloudShard.Load(TestModels.Get(preset));
        var lora = Adapter(shard, 3);
        using var _ = no_grad();
        using var pool = PoolOf(shard, strategy);
        var g = new Generator(13);
        var pairs = new[] { Open(shard, pool, 96, 20, null, g), Open(shard, pool, 96, 6, lora, g), Open(shard, pool, 96, 12, null, g) };
        try
        {
            for (int step = 0; step < 2; step++) Step(shard, pairs, g, $"before: step {step}");
            // The endpoint rolls back rejected speculative drafts: one session far back, one by a step, one not at all.
            foreach (var (pair, length) in new[] { (pairs[0], 4L), (pairs[1], pairs[1].Alone.Length - 1) })
            {
                pair.Pooled.Truncate(length);
                pair.Alone.Truncate(length);
            }
            for (int step = 0; step < 3; step++) Step(shard, pairs, g, $"after: step {step}");
            Prefill(shard, pairs[0], 5, g); // a speculative step's few tokens after the rollback
            Step(shard, pairs, g, "after a prefill on the rolled-back session");
        }
        finally { foreach (var p in pairs) p.Dispose(); }
    }

    [TestCaseSource(nameof(Cases))]
    public void AReusedSlotShowsNothingOfItsLastSession(string preset, DecodeAttention strategy)
    {
        using var shard = CloudShard.Load(TestModels.Get(preset));
        using var _ = no_grad();
        using var pool = PoolOf(shard, strategy);
        var g = new Generator(14);
        using var long_ = Open(shard, pool, 128, 60, null, g);      // keeps the shelf, and makes the batch read 60+ positions
        var first = Open(shard, pool, 128, 50, null, g);
        Step(shard, new[] { long_, first }, g, "the first session");
        // Its last keys are not even numbers: a leftover would poison any row that reads it, masked or not (0 × NaN).
        using (var poison = full(new long[] { 1, 1, shard.Config.HiddenSize }, float.NaN))
        using (var at = arange(first.Pooled.Length, first.Pooled.Length + 1))
            shard.Middle.Forward(poison, at, first.Pooled).Dispose();
        int live = pool.LiveSlots;
        first.Dispose();
        Assert.That(pool.LiveSlots, Is.EqualTo(live - 1));

        using var second = Open(shard, pool, 128, 3, null, g);       // takes the slot the first gave back
        Assert.That(pool.LiveSlots, Is.EqualTo(live));
        for (int step = 0; step < 2; step++) Step(shard, new[] { long_, second }, g, $"the next session in that slot: step {step}");
    }

    [TestCaseSource(nameof(Cases))]
    public void ATruncationDropsWhatItRollsBack(string preset, DecodeAttention strategy)
    {
        using var shard = CloudShard.Load(TestModels.Get(preset));
        using var _ = no_grad();
        using var pool = PoolOf(shard, strategy);
        var g = new Generator(15);
        using var other = Open(shard, pool, 64, 40, null, g);
        using var pair = Open(shard, pool, 64, 10, null, g);
        using (var poison = full(new long[] { 1, 3, shard.Config.HiddenSize }, float.NaN))
        using (var at = arange(10, 13))
            shard.Middle.Forward(poison, at, pair.Pooled).Dispose(); // a bad draft, rolled back below (the next step overwrites only its first position)
        pair.Pooled.Truncate(10);
        Step(shard, new[] { other, pair }, g, "after rolling back a position that held NaN");
    }

    [Test]
    public void ASlotHoldsMaxLengthRoundedUpAndTheLastPositionFits()
    {
        using var shard = CloudShard.Load(TestModels.Get());
        using var _ = no_grad();
        using var pool = shard.Middle.NewPool();
        Assert.That(KvPool.CapacityFor(1), Is.EqualTo(KvPool.PositionChunk));
        Assert.That(KvPool.CapacityFor(65), Is.EqualTo(2 * KvPool.PositionChunk));
        var g = new Generator(16);
        using var pair = Open(shard, pool, 64, 63, null, g);
        Assert.That(pair.Pooled.Bytes, Is.EqualTo(pool.BytesFor(64)));
        Step(shard, new[] { pair }, g, "the 64th position");
        using var x = randn(1, 1, shard.Config.HiddenSize);
        Assert.Throws<ArgumentOutOfRangeException>(() => shard.Middle.ForwardDecodeBatch(x, new[] { 64L }, new[] { pair.Pooled }, new LoraAdapter?[] { null }));
        Assert.That(pair.Pooled.Length, Is.EqualTo(64), "a refused step changes nothing");
    }

    [Test]
    public void AShelfGrowsByDoublingSoItsSpareSlotsNeverOutnumberItsSessions()
    {
        // The KV budget reserves one slot per session; the memory a shelf holds beyond that is its spare slots.
        using var shard = CloudShard.Load(TestModels.Get());
        using var _ = no_grad();
        using var pool = shard.Middle.NewPool();
        var g = new Generator(17);
        var open = new List<Pair>();
        try
        {
            foreach (int sessions in new[] { 1, 2, 3, 5, 9, 17 })
            {
                while (open.Count < sessions) open.Add(Open(shard, pool, 64, 2, null, g));
                long slots = pool.AllocatedBytes / pool.BytesFor(64);
                Assert.That(slots, Is.InRange(sessions, sessions + Math.Min(sessions, KvPool.SlotChunk) - 1), $"{sessions} sessions");
            }
        }
        finally { foreach (var p in open) p.Dispose(); }
        Assert.That(pool.AllocatedBytes, Is.EqualTo(0), "the last session out frees the shelf");
    }
}
