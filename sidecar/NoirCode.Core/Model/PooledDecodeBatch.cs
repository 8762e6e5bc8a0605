using TorchSharp;
using static TorchSharp.torch;

namespace NoirCode.Core.Model;

/// <summary>
/// One decode batch over pooled caches, planned once and used by every layer: which slot of which shelf each row
/// writes its new key and value to, at which position, and the mask of the positions each row attends to.
/// Rows are grouped by shelf (sessions of one max_length share a shelf, so there is usually one group).
/// </summary>
internal sealed class PooledDecodeBatch : IDisposable
{
    internal sealed class Group
    {
        public required KvShelf Shelf { get; init; }
        /// <summary>The batch rows of this group, [Bg]; null when the group is the whole batch in order.</summary>
        public Tensor? Rows { get; init; }
        public required int[] RowList { get; init; }
        /// <summary>Slot and write position of each row, [Bg] (int64).</summary>
        public required Tensor Slots { get; init; }
        public required Tensor Positions { get; init; }
        public required int[] SlotList { get; init; }
        /// <summary>Each row's length after this step.</summary>
        public required long[] Lengths { get; init; }
        public required long MaxLength { get; init; }
        /// <summary>[Bg, 1, 1, Lmax], true = attend; null when every row has the longest length.</summary>
        public Tensor? Mask { get; init; }
        /// <summary>SlotRange: the first slot and the number of slots spanned, each row's place in that range
        /// ([Bg]; null when the rows are the range in order), and the range's mask ([n, 1, 1, Lmax]).</summary>
        public int RangeStart { get; init; }
        public int RangeCount { get; init; }
        public Tensor? RangeRows { get; init; }
        public Tensor? RangeMask { get; init; }
    }

    public DecodeAttention Strategy { get; }
    public IReadOnlyList<Group> Groups { get; }
    public long Rows { get; }
    readonly IReadOnlyList<KvCache> _caches;

    PooledDecodeBatch(DecodeAttention strategy, IReadOnlyList<Group> groups, IReadOnlyList<KvCache> caches)
    {
        Strategy = strategy; Groups = groups; _caches = caches; Rows = caches.Count;
    }

    /// <summary>The plan for caches that all live in one pool; null when any does not (they then decode one by one).
    /// Takes each row's slot if it has none yet and zeroes shelves as far as the batch reads. Worker thread.</summary>
    public static PooledDecodeBatch? TryPlan(IReadOnlyList<KvCache> caches, Device device)
    {
        if (caches.Count == 0 || caches[0].Slot is not { } first) return null;
        var pool = first.Pool;
        if (caches.Any(c => c.Slot is null || c.Slot.Pool != pool)) return null;
        if (caches.Distinct(ReferenceEqualityComparer.Instance).Count() != caches.Count)
            throw new ArgumentException("a session can have only one step in a decode batch");
        foreach (var c in caches)
            if (c.Length + 1 > c.Slot!.Capacity) throw new ArgumentOutOfRangeException(nameof(caches), $"position {c.Length} does not fit this session's {c.Slot.Capacity}");
        var shelves = caches.Select(c => c.Slot!.Acquire()).ToArray();
        var groups = new List<Group>();
        bool single = shelves.All(s => s == shelves[0]);
        foreach (var byShelf in Enumerable.Range(0, caches.Count).GroupBy(r => shelves[r]))
        {
            var shelf = byShelf.Key;
            int[] rows = byShelf.ToArray();
            int[] slots = rows.Select(r => caches[r].Slot!.Index).ToArray();
            long[] lengths = rows.Select(r => caches[r].Length + 1).ToArray();
            long lmax = lengths.Max();
            shelf.EnsureFinite(lmax);
            int lo = slots.Min(), n = slots.Max() - lo + 1;
            bool rangeInOrder = n == rows.Length && slots.Select((s, i) => s == lo + i).All(x => x);
            groups.Add(new Group
            {
                Shelf = shelf, RowList = rows, SlotList = slots, Lengths = lengths, MaxLength = lmax,
                Rows = single ? null : Indices(rows.Select(r => (long)r), device),
                Slots = Indices(slots.Select(s => (long)s), device),
                Positions = Indices(lengths.Select(l => l - 1), device),
                Mask = lengths.All(l => l == lmax) ? null : Mask(lengths, lmax, device),
                RangeStart = lo, RangeCount = n,
                RangeRows = rangeInOrder ? null : Indices(slots.Select(s => (long)(s - lo)), device),
                RangeMask = RangeMask(slots, lengths, lo, n, lmax, device),
            });
        }
        return new PooledDecodeBatch(first.Pool.Attention, groups, caches);
    }

    static Tensor Indices(IEnumerable<long> values, Device device) => tensor(values.ToArray(), ScalarType.Int64, device).DetachFromDisposeScope();

    /// <summary>[B, 1, 1, Lmax]: row r attends to positions below its length.</summary>
    static Tensor Mask(long[] lengths, long lmax, Device device)
    {
        var mask = new bool[lengths.Length * lmax];
        for (int r = 0; r < lengths.Length; r++)
            for (long j = 0; j < lengths[r]; j++) mask[r * lmax + j] = true;
        return tensor(mask, new long[] { lengths.Length, 1, 1, lmax }, device: device).DetachFromDisposeScope();
    }

    /// <summary>[n, 1, 1, Lmax] over the slot range: a row of the batch attends below its length, the other slots
    /// (their results are dropped) to everything, so that no row is all masked.</summary>
    static Tensor? RangeMask(int[] slots, long[] lengths, int lo, int n, long lmax, Device device)
    {
        if (lengths.All(l => l == lmax)) return null;
        var mask = new bool[n * lmax];
        Array.Fill(mask, true);
        for (int i = 0; i < slots.Length; i++)
            for (long j = lengths[i]; j < lmax; j++) mask[(slots[i] - lo) * lmax + j] = false;
        return tensor(mask, new long[] { n, 1, 1, lmax }, device: device).DetachFromDisposeScope();
    }

    /// <summary>Counts the step in every layer of every row's cache (after all layers wrote it).</summary>
    public void Advance()
    {
        foreach (var c in _caches)
            for (int l = 0; l < c.LayerCount; l++) c[l].Advance();
    }

    /// <summary>After a failed step: zeroes the position each row may have written in any layer, so that what lies
    /// past a slot's length stays zero.</summary>
    public void Discard()
    {
        foreach (var g in Groups)
            for (int i = 0; i < g.SlotList.Length; i++)
                for (int l = 0; l < _caches[g.RowList[i]].LayerCount; l++) g.Shelf.Zero(l, g.SlotList[i], g.Lengths[i] - 1, 1);
    }

    public void Dispose()
    {
        foreach (var g in Groups)
        {
            g.Rows?.Dispose(); g.Slots.Dispose(); g.Positions.Dispose(); g.Mask?.Dispose();
            g.RangeRows?.Dispose(); g.RangeMask?.Dispose();
        }
    }
}
