using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace NoirCode.Core.Model;

/// <summary>
/// The endpoint's batched decode attention: one new position for each of B sessions, each with its own history in a
/// <see cref="KvPool"/> slot. The new keys and values go into the pool in one indexed write per layer; attention runs
/// in one masked call per shelf (<see cref="DecodeAttention"/>). Grouped-query heads go in as the query positions of
/// their KV head, as <see cref="Attention"/> does for one sequence, so the cache is never repeated per query head.
/// </summary>
internal static class BatchedDecodeAttention
{
    /// <param name="q">[B, H, 1, hd], rotated</param>
    /// <param name="k">[B, kvH, 1, hd], rotated</param>
    /// <param name="v">[B, kvH, 1, hd]</param>
    /// <returns>[B, H, 1, hd]</returns>
    public static Tensor Attend(Tensor q, Tensor k, Tensor v, PooledDecodeBatch batch, int layer)
    {
        using var scope = NewDisposeScope();
        long b = q.shape[0], heads = q.shape[1], hd = q.shape[3], kvHeads = k.shape[1], group = heads / kvHeads;
        var grouped = q.reshape(b, kvHeads, group, hd);                          // [B, kvH, g, hd]: query head h = kvh·g + i
        var newKeys = k.squeeze(2);                                               // [B, kvH, hd]
        var newValues = v.squeeze(2);
        Tensor y;
        if (batch.Groups.Count == 1 && batch.Groups[0].Rows is null)
            y = AttendGroup(grouped, newKeys, newValues, batch.Groups[0], batch.Strategy, layer);
        else
        {
            y = zeros_like(grouped);
            foreach (var g in batch.Groups)
            {
                var part = AttendGroup(grouped.index_select(0, g.Rows!), newKeys.index_select(0, g.Rows!), newValues.index_select(0, g.Rows!), g, batch.Strategy, layer);
                y.index_copy_(0, g.Rows!, part);
            }
        }
        return y.reshape(b, heads, 1, hd).MoveToOuterDisposeScope();           // [B, kvH, g, hd] → [B, H, 1, hd]
    }

    /// <param name="q">[Bg, kvH, g, hd]</param>
    /// <param name="k">[Bg, kvH, hd], written at each row's slot and position</param>
    /// <returns>[Bg, kvH, g, hd]</returns>
    static Tensor AttendGroup(Tensor q, Tensor k, Tensor v, PooledDecodeBatch.Group g, DecodeAttention strategy, int layer)
    {
        var keys = g.Shelf.Keys(layer);                                           // [slots, kvH, C, hd]
        var values = g.Shelf.Values(layer);
        // keys[slot_r, :, position_r, :] = k[r]: the two index tensors broadcast to [Bg], the head dimension between them is kept.
        keys.index_put_(k, TensorIndex.Tensor(g.Slots), TensorIndex.Colon, TensorIndex.Tensor(g.Positions));
        values.index_put_(v, TensorIndex.Tensor(g.Slots), TensorIndex.Colon, TensorIndex.Tensor(g.Positions));
        if (strategy == DecodeAttention.Auto)
            strategy = 5L * g.SlotList.Length >= 4L * g.RangeCount ? DecodeAttention.SlotRange : DecodeAttention.PerRow;
        switch (strategy)
        {
            case DecodeAttention.Gather:
            {
                var padded = keys.narrow(2, 0, g.MaxLength).index_select(0, g.Slots);     // [Bg, kvH, Lmax, hd]
                var paddedValues = values.narrow(2, 0, g.MaxLength).index_select(0, g.Slots);
                return F.scaled_dot_product_attention(q, padded, paddedValues, g.Mask, 0.0, false);
            }
            case DecodeAttention.SlotRange:
            {
                var range = keys.narrow(0, g.RangeStart, g.RangeCount).narrow(2, 0, g.MaxLength);   // [n, kvH, Lmax, hd], in place
                var rangeValues = values.narrow(0, g.RangeStart, g.RangeCount).narrow(2, 0, g.MaxLength);
                if (g.RangeRows is null) return F.scaled_dot_product_attention(q, range, rangeValues, g.RangeMask, 0.0, false);
                var spread = zeros(new[] { (long)g.RangeCount, q.shape[1], q.shape[2], q.shape[3] }, q.dtype, q.device).index_copy_(0, g.RangeRows, q);
                return F.scaled_dot_product_attention(spread, range, rangeValues, g.RangeMask, 0.0, false).index_select(0, g.RangeRows);
            }
            default:
            {
                var rows = new Tensor[g.SlotList.Length];
                for (int i = 0; i < rows.Length; i++)
                {
                    var own = keys.narrow(0, g.SlotList[i], 1).narrow(2, 0, g.Lengths[i]);          // [1, kvH, L_r, hd]
                    var ownValues = values.narrow(0, g.SlotList[i], 1).narrow(2, 0, g.Lengths[i]);
                    rows[i] = F.scaled_dot_product_attention(q.narrow(0, i, 1), own, ownValues, null, 0.0, false);
                }
                return rows.Length == 1 ? rows[0] : cat(rows, 0);
            }
        }
    }
}
