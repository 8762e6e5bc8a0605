using NoirCode.Core.Model;

namespace NoirCode.Endpoint;

/// <summary>
/// What one pending training sample holds until its backward pass: the activations autograd keeps for the middle
/// blocks (float32). An estimate from the config, linear in the sample's positions (attention runs as a fused kernel
/// that keeps no T × T matrix): per block and position, the two norms' inputs and intermediates, q/k/v before and
/// after rotary embedding with its products, the grouped keys and values, the attention and projection outputs, the
/// residuals and the MLP's four intermediate tensors. On the bundled model (3 middle blocks) that is about 90 MB for a
/// 1,024-position sample, where the audit measured about 93 MB. It is what the quota counts, so it must grow with
/// what a tenant holds; it need not be exact.
/// </summary>
public static class TrainingMemory
{
    public static long BytesFor(ModelConfig c, int blocks, long positions)
    {
        long d = c.HiddenSize, q = (long)c.NumHeads * c.HeadDim, kv = (long)c.NumKvHeads * c.HeadDim;
        long perPosition = 8 * d + (q + 2 * kv) + 3 * (q + kv) + 3 * q + 4L * c.IntermediateSize;
        return 4L * perPosition * positions * blocks;
    }
}
