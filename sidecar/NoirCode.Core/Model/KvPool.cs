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

/// <summary>
/// The slots of one capacity: per layer keys and values [slots, kvH, Capacity, hd]. Positions [0, Finite) of every
/// slot hold finite numbers: the keys and values of the slot's session below its length, zeros elsewhere.
/// </summary>
internal sealed class KvShelf : IDisposable
{
    readonly KvPool _pool;
    readonly SortedSet<int> _free = new();
    Tensor[] _keys, _values;
    int _slots;

    public long Capacity { get; }
    public long Finite { get; private set; }
    public int Live { get; private set; }
    public int Slots => _slots;

    public KvShelf(KvPool pool, long capacity)
    {
        _pool = pool; Capacity = capacity;
        _keys = new Tensor[pool.Layers]; _values = new Tensor[pool.Layers];
    }

    /// <summary>Layer <paramref name="layer"/>'s keys, [slots, kvH, Capacity, hd]: valid until the shelf next grows.</summary>
    public Tensor Keys(int layer) => _keys[layer];
    public Tensor Values(int layer) => _values[layer];

    public long Bytes => _slots == 0 ? 0 : _pool.Layers * 2 * _keys[0].NumberOfElements * _keys[0].ElementSize;

    /// <summary>The lowest free slot (so live slots stay packed at the front), growing the shelf if none is free.</summary>
    public int Rent()
    {
        if (_free.Count == 0) Grow();
        int slot = _free.Min;
        _free.Remove(slot);
        Live++;
        return slot;
    }

    /// <summary>Zeroes the slot and frees it; the last one out frees the shelf.</summary>
    public void Return(int slot)
    {
        for (int l = 0; l < _pool.Layers; l++) Zero(l, slot, 0, Finite);
        _free.Add(slot);
        if (--Live == 0) _pool.Forget(this);
    }

    /// <summary>Makes positions [0, length) of every slot finite, zeroing a band of whole chunks beyond <see cref="Finite"/>.</summary>
    public void EnsureFinite(long length)
    {
        if (length <= Finite) return;
        if (length > Capacity) throw new ArgumentOutOfRangeException(nameof(length), $"{length} positions do not fit a slot of {Capacity}");
        long to = Math.Min(Capacity, (length + KvPool.PositionChunk - 1) / KvPool.PositionChunk * KvPool.PositionChunk);
        for (int l = 0; l < _pool.Layers; l++)
        {
            using var k = _keys[l].narrow(2, Finite, to - Finite);
            using var v = _values[l].narrow(2, Finite, to - Finite);
            k.zero_(); v.zero_();
        }
        Finite = to;
    }

    public void Zero(int layer, int slot, long from, long count)
    {
        if (count <= 0 || _slots == 0) return;
        using var k = _keys[layer].narrow(0, slot, 1);
        using var v = _values[layer].narrow(0, slot, 1);
        using var kr = k.narrow(2, from, count);
        using var vr = v.narrow(2, from, count);
        kr.zero_(); vr.zero_();
    }

    /// <summary>
    /// More slots (as many as it has, at least one, at most <see cref="KvPool.SlotChunk"/>): new tensors (uninitialised beyond <see cref="Finite"/>, so untouched
    /// memory stays unmapped until a session reaches it), the live band copied, the new slots' band zeroed.
    /// </summary>
    void Grow()
    {
        long before = Bytes;
        int more = Math.Clamp(_slots, 1, KvPool.SlotChunk), slots = _slots + more;
        for (int l = 0; l < _pool.Layers; l++)
        {
            _keys[l] = Grown(_keys[l], slots);
            _values[l] = Grown(_values[l], slots);
        }
        for (int i = _slots; i < slots; i++) _free.Add(i);
        _slots = slots;
        _pool.Allocated(Bytes - before);
    }

    Tensor Grown(Tensor? old, int slots)
    {
        var grown = empty(new[] { slots, _pool.KvHeads, Capacity, _pool.HeadDim }, _pool.Dtype).DetachFromDisposeScope();
        if (Finite > 0)
        {
            using var band = grown.narrow(2, 0, Finite);
            if (old is not null && _slots > 0)
            {
                using var kept = band.narrow(0, 0, _slots);
                using var from = old.narrow(2, 0, Finite);
                kept.copy_(from);
            }
            using var fresh = band.narrow(0, _slots, slots - _slots);
            fresh.zero_();
        }
        old?.Dispose();
        return grown;
    }

    public void Dispose()
    {
        _pool.Allocated(-Bytes);
        for (int l = 0; l < _pool.Layers; l++) { _keys[l]?.Dispose(); _values[l]?.Dispose(); }
        _slots = 0; Live = 0; _free.Clear(); Finite = 0;
    }
}

/// <summary>One session's place in a <see cref="KvPool"/>: a capacity, and a slot of that capacity's shelf once taken.</summary>
internal sealed class KvSlot
{
    readonly KvPool _pool;
    KvShelf? _shelf;

    public KvSlot(KvPool pool, long capacity) { _pool = pool; Capacity = capacity; }

    public KvPool Pool => _pool;
    public long Capacity { get; }
    public int Index { get; private set; } = -1;

    /// <summary>The shelf, taking a slot on first use (worker thread).</summary>
    public KvShelf Acquire()
    {
        if (_shelf is null)
        {
            _shelf = _pool.Shelf(Capacity);
            Index = _shelf.Rent();
        }
        return _shelf;
    }

    /// <summary>This slot's keys and values of one layer, [1, kvH, Capacity, hd], made finite up to <paramref name="needed"/>.</summary>
    public (Tensor Keys, Tensor Values) Layer(int layer, long needed)
    {
        if (needed > Capacity) throw new ArgumentOutOfRangeException(nameof(needed), $"{needed} positions do not fit this session's {Capacity}");
        var shelf = Acquire();
        shelf.EnsureFinite(needed);
        return (shelf.Keys(layer).narrow(0, Index, 1), shelf.Values(layer).narrow(0, Index, 1));
    }

    public void Zero(int layer, long from, long count) => _shelf?.Zero(layer, Index, from, count);

    public long LayerBytes => 2L * _pool.KvHeads * Capacity * _pool.HeadDim * KvPool.ElementSize(_pool.Dtype);

    /// <summary>Gives the slot back, zeroed; a later append takes a slot again.</summary>
    public void Release()
    {
        if (_shelf is null) return;
        var shelf = _shelf;
        _shelf = null;
        int index = Index;
        Index = -1;
        shelf.Return(index);
    }
}
