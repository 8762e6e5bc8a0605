using static TorchSharp.torch;

namespace NoirCode.Core.Model;

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
