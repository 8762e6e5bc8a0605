using static TorchSharp.torch;

namespace NoirCode.Core.Model;

/// <summary>
/// The endpoint's KV memory for many sessions, laid out so that a decode batch attends in one operation
/// (<see cref="BatchedDecodeAttention"/>). Sessions are grouped by capacity (their max_length rounded up to
/// <see cref="PositionChunk"/> positions); each capacity has a shelf of per-layer tensors [slots, kvH, capacity, hd]
/// for the keys and for the values, grown by doubling up to <see cref="SlotChunk"/> slots at a time, and each session
/// owns one slot. A shelf holds at most min(live, <see cref="SlotChunk"/>) − 1 spare slots beyond its sessions', so
/// the memory committed past what the sessions reserved is bounded by that per capacity (the /metrics gauge
/// noir_kv_bytes_allocated shows it beside noir_kv_bytes_reserved).
/// <para>
/// Only the model worker thread touches a pool: <see cref="Open"/> only makes a ticket (a gRPC thread may call it);
/// the slot is taken on the session's first append and given back, zeroed, when its cache is disposed.
/// A shelf whose sessions have all closed is freed.
/// </para>
/// <para>
/// Batched attention reads every row up to the batch's longest, masked. So that masked positions hold finite
/// numbers (0 × NaN is NaN) and nothing of a closed session lingers, a shelf is zeroed in bands as its sessions grow
/// (<see cref="KvShelf.Finite"/>), a truncation zeroes what it drops, and a slot is zeroed when given back.
/// </para>
/// </summary>
public sealed class KvPool : IDisposable
{
    /// <summary>Positions a slot's capacity is rounded up to, and the band in which a shelf is zeroed as it grows.</summary>
    public const int PositionChunk = 64;
    /// <summary>The most slots a shelf grows by at once (it doubles until then: 1, 2, 4, 8, 8, …).</summary>
    public const int SlotChunk = 8;

    readonly Dictionary<long, KvShelf> _shelves = new();
    internal int Layers { get; }
    internal int KvHeads { get; }
    internal int HeadDim { get; }
    internal ScalarType Dtype { get; }

    /// <summary>How a decode batch attends (measured in the throughput benchmark; the default is the fastest there).</summary>
    public DecodeAttention Attention { get; set; } = DecodeAttention.Auto;

    /// <param name="layers">the blocks of the stack whose caches this pool holds</param>
    public KvPool(ModelConfig config, int layers, ScalarType dtype = ScalarType.Float32)
    {
        if (layers < 1) throw new ArgumentOutOfRangeException(nameof(layers), "a cache needs at least one layer");
        (Layers, KvHeads, HeadDim, Dtype) = (layers, config.NumKvHeads, config.HeadDim, dtype);
    }

    /// <summary>The positions a session of <paramref name="maxLength"/> gets: rounded up to <see cref="PositionChunk"/>.</summary>
    public static long CapacityFor(long maxLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        return (maxLength + PositionChunk - 1) / PositionChunk * PositionChunk;
    }

    /// <summary>Bytes of keys and values one slot of <paramref name="maxLength"/> positions holds, all layers.</summary>
    public long BytesFor(long maxLength) => 2L * CapacityFor(maxLength) * KvHeads * HeadDim * Layers * ElementSize(Dtype);

    /// <summary>A cache for one session of at most <paramref name="maxLength"/> positions. Touches no shared state.</summary>
    public KvCache Open(long maxLength) => new(new KvSlot(this, CapacityFor(maxLength)), Layers);

    long _allocated;
    /// <summary>Bytes the shelves hold now (free slots included); any thread may read it (the endpoint's /metrics).</summary>
    public long AllocatedBytes => Interlocked.Read(ref _allocated);
    internal void Allocated(long delta) => Interlocked.Add(ref _allocated, delta);
    /// <summary>Slots taken, over all shelves. Worker thread only.</summary>
    public int LiveSlots => _shelves.Values.Sum(s => s.Live);

    internal KvShelf Shelf(long capacity)
    {
        if (!_shelves.TryGetValue(capacity, out var shelf)) _shelves[capacity] = shelf = new KvShelf(this, capacity);
        return shelf;
    }

    internal void Forget(KvShelf shelf)
    {
        _shelves.Remove(shelf.Capacity);
        shelf.Dispose();
    }

    internal static long ElementSize(ScalarType t) => t switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float16 or ScalarType.BFloat16 => 2,
        _ => 4,
    };

    public void Dispose()
    {
        foreach (var s in _shelves.Values) s.Dispose();
        _shelves.Clear();
    }
}
