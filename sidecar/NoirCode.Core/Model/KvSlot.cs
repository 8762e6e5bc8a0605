using static TorchSharp.torch;

namespace NoirCode.Core.Model;

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
