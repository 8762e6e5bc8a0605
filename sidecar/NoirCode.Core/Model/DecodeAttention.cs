namespace NoirCode.Core.Model;

/// <summary>How a decode batch over pooled caches attends (all give the same numbers; they differ in speed).</summary>
public enum DecodeAttention
{
    /// <summary>The batch's slots, up to its longest row, copied into one padded [B, kvH, Lmax, hd] and attended
    /// in one masked call.</summary>
    Gather,
    /// <summary>The contiguous range of slots that holds the batch's rows attended in place in one masked call
    /// (rows of the range that are not in the batch are computed and dropped): no copy of the cache.</summary>
    SlotRange,
    /// <summary>One call per row over its own slot (the projections still run batched): reads no more than each row's
    /// length, but costs a few operations per row.</summary>
    PerRow,
    /// <summary>Slot range when the batch fills at least 4/5 of its range of slots (nothing much computed and dropped),
    /// else per row: in the throughput benchmark slot range is the fastest on full batches, per row on sparse ones.</summary>
    Auto,
}
