using static TorchSharp.torch;

namespace NoirCode.Core.Model;

/// <summary>
/// Keys and values of one attention layer for one batch of sequences. On its own, in buffers that grow by doubling,
/// so a decode step appends in place; or, for the endpoint, in a slot of a <see cref="KvPool"/> (one sequence), so
/// that a decode batch of many sessions attends in one operation (<see cref="BatchedDecodeAttention"/>).
/// <see cref="Truncate"/> rolls back to an earlier position (an edit, a cancelled generation) without copying.
/// </summary>
public sealed class LayerKvCache : IDisposable
{
    Tensor? _keys, _values;
    readonly KvSlot? _slot;
    readonly int _layer;
    public long Length { get; private set; }

    public LayerKvCache() { }

    internal LayerKvCache(KvSlot slot, int layer) { _slot = slot; _layer = layer; }

    /// <summary>The pool slot this layer lives in; null for a cache with its own buffers.</summary>
    internal KvSlot? Slot => _slot;

    /// <summary>Appends k and v ([B, kvHeads, T, hd]) and returns all keys and values so far.</summary>
    public (Tensor Keys, Tensor Values) Append(Tensor k, Tensor v)
    {
        if (_slot is not null) return AppendToSlot(k, v);
        long needed = Length + k.shape[2];
        if (_keys is null || _keys.shape[2] < needed || _keys.shape[0] != k.shape[0])
        {
            long capacity = Math.Max(needed, _keys is null ? 64 : _keys.shape[2] * 2);
            var keys = zeros(new[] { k.shape[0], k.shape[1], capacity, k.shape[3] }, k.dtype, k.device).DetachFromDisposeScope();
            var values = zeros(new[] { v.shape[0], v.shape[1], capacity, v.shape[3] }, v.dtype, v.device).DetachFromDisposeScope();
            if (_keys is not null && Length > 0)
            {
                keys.narrow(2, 0, Length).copy_(_keys.narrow(2, 0, Length));
                values.narrow(2, 0, Length).copy_(_values!.narrow(2, 0, Length));
            }
            _keys?.Dispose(); _values?.Dispose();
            _keys = keys; _values = values;
        }
        _keys.narrow(2, Length, k.shape[2]).copy_(k);
        _values!.narrow(2, Length, v.shape[2]).copy_(v);
        Length = needed;
        return (_keys.narrow(2, 0, Length), _values.narrow(2, 0, Length));
    }

    /// <summary>A prefill chunk (or a lone step) into this sequence's pool slot: [1, kvH, T, hd] at Length.</summary>
    (Tensor Keys, Tensor Values) AppendToSlot(Tensor k, Tensor v)
    {
        if (k.shape[0] != 1) throw new ArgumentException("a pooled cache holds one sequence");
        long needed = Length + k.shape[2];
        var (keys, values) = _slot!.Layer(_layer, needed);          // [1, kvH, capacity, hd] each
        keys.narrow(2, Length, k.shape[2]).copy_(k);
        values.narrow(2, Length, v.shape[2]).copy_(v);
        Length = needed;
        return (keys.narrow(2, 0, Length), values.narrow(2, 0, Length));
    }

    /// <summary>Counts a position that a batched decode step wrote straight into the pool.</summary>
    internal void Advance() => Length++;

    public void Truncate(long length)
    {
        if (length < 0 || length > Length) throw new ArgumentOutOfRangeException(nameof(length), $"cannot truncate a cache of {Length} positions to {length}");
        // A pooled slot is read past its length (masked) by batched attention, so what is dropped is zeroed: a masked
        // position must hold a finite number (0 × NaN is NaN), and nothing rolled back lingers.
        if (_slot is not null && length < Length) _slot.Zero(_layer, length, Length - length);
        Length = length;
    }

    public long Bytes => _slot?.LayerBytes ?? (_keys is null ? 0 : 2 * _keys.NumberOfElements * _keys.ElementSize);

    public void Dispose() { _keys?.Dispose(); _values?.Dispose(); _keys = _values = null; Length = 0; }
}

/// <summary>The caches of every layer in one stack of blocks, for one sequence (or one batch).</summary>
public sealed class KvCache : IDisposable
{
    readonly LayerKvCache[] _layers;
    readonly KvSlot? _slot;

    /// <param name="layerCount">at least one: every shard of a split holds a block (SplitSpec.ClipFor)</param>
    public KvCache(int layerCount)
    {
        if (layerCount < 1) throw new ArgumentOutOfRangeException(nameof(layerCount), "a cache needs at least one layer");
        _layers = Enumerable.Range(0, layerCount).Select(_ => new LayerKvCache()).ToArray();
    }

    /// <summary>A cache in a pool slot (<see cref="KvPool.Open"/>).</summary>
    internal KvCache(KvSlot slot, int layerCount)
    {
        _slot = slot;
        _layers = Enumerable.Range(0, layerCount).Select(i => new LayerKvCache(slot, i)).ToArray();
    }

    public LayerKvCache this[int i] => _layers[i];
    public long Length => _layers[0].Length;
    public long Bytes => _layers.Sum(l => l.Bytes);
    public int LayerCount => _layers.Length;

    /// <summary>The pool slot, for a cache that <see cref="KvPool.Open"/> made; null otherwise.</summary>
    internal KvSlot? Slot => _slot;

    public void Truncate(long length)
    {
        if (length < 0 || length > Length) throw new ArgumentOutOfRangeException(nameof(length), $"cannot truncate a sequence of {Length} positions to {length}");
        foreach (var l in _layers) l.Truncate(length);
    }

    /// <summary>Frees the buffers; a pooled cache gives its slot back, zeroed (on the pool's thread).</summary>
    public void Dispose()
    {
        foreach (var l in _layers) l.Dispose();
        _slot?.Release();
    }
}
