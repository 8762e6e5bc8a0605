using NoirCode.Core.Model;

namespace NoirCode.Endpoint;

/// <summary>
/// What one pending training sample holds until its backward pass: the activations autograd keeps for the middle
/// blocks (float32). An estimate from the config, linear in the sample's positions: per block and position, the two
/// norms' inputs, q/k/v before and after rotary embedding, the grouped keys and values, the attention and
/// projection outputs, the residuals and the MLP's four intermediate tensors. It is what the quota counts, so it
/// must grow with what a tenant holds; it need not be exact.
/// </summary>
public static class TrainingMemory
{
    public static long BytesFor(ModelConfig c, int blocks, long positions)
    {
        long d = c.HiddenSize, q = (long)c.NumHeads * c.HeadDim, kv = (long)c.NumKvHeads * c.HeadDim;
        long perPosition = 4 * d + (q + 2 * kv) + (q + kv) + 2 * q + q + 4L * c.IntermediateSize;
        return 4L * perPosition * positions * blocks;
    }
}
