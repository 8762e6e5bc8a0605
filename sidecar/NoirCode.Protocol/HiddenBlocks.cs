using Google.Protobuf;
using static TorchSharp.torch;

namespace NoirCode.Protocol;

/// <summary>Converts between protocol HiddenBlocks and tensors, with every check a receiver needs.</summary>
public static class HiddenBlocks
{
    /// <summary>The block for an encoded payload (data, then the int8 scales), its bytes unchanged.</summary>
    /// <remarks>Internal: the egress guard's packets and the endpoint's replies are the only blocks built from
    /// tensors (see <see cref="HiddenStateCodec"/>).</remarks>
    internal static HiddenBlock FromPayload(ReadOnlyMemory<byte> payload, WireDtype dtype, long tokens, int hidden)
    {
        long dataBytes = HiddenStateCodec.DataBytes(dtype, tokens * hidden);
        var block = new HiddenBlock { Dtype = dtype, Tokens = (uint)tokens, Hidden = (uint)hidden };
        block.Data = UnsafeByteOperations.UnsafeWrap(payload[..(int)dataBytes]); // the payload is never written again
        if (dataBytes < payload.Length) block.Scales = UnsafeByteOperations.UnsafeWrap(payload[(int)dataBytes..]);
        return block;
    }

    /// <summary>Encodes an endpoint reply [1, T, D] (the middle's output, which carries no client data).</summary>
    internal static HiddenBlock EncodeReply(Tensor hidden, WireDtype dtype) =>
        FromPayload(HiddenStateCodec.Encode(hidden, dtype), dtype, hidden.shape[^2], (int)hidden.shape[^1]);

    /// <summary>
    /// Decodes and validates a block: known dtype, the expected hidden size, byte counts that match, at most
    /// <paramref name="maxTokens"/> tokens, and only finite values. Throws ArgumentException with a clear message.
    /// </summary>
    /// <returns>float32 [1, T, D]</returns>
    public static Tensor Decode(HiddenBlock block, int expectedHidden, long maxTokens)
    {
        if (block is null) throw new ArgumentException("missing hidden states");
        if (!Enum.IsDefined(block.Dtype)) throw new ArgumentException($"unknown wire dtype {(int)block.Dtype}");
        if (block.Hidden != expectedHidden) throw new ArgumentException($"hidden size {block.Hidden} does not match the model's {expectedHidden}");
        if (block.Tokens == 0) throw new ArgumentException("a block must hold at least one position");
        if (block.Tokens > maxTokens) throw new ArgumentException($"{block.Tokens} positions exceed the {maxTokens} this session may still use");
        long values = (long)block.Tokens * block.Hidden;
        long expected = HiddenStateCodec.PayloadBytes(block.Dtype, values);
        long got = block.Data.Length + block.Scales.Length;
        if (got != expected) throw new ArgumentException($"{got} bytes do not hold {block.Tokens}×{block.Hidden} values of {block.Dtype} ({expected} expected)");
        var payload = new byte[expected];
        block.Data.CopyTo(payload, 0);
        block.Scales.CopyTo(payload, block.Data.Length);
        var tensor = HiddenStateCodec.Decode(payload, block.Dtype, block.Tokens, expectedHidden);
        bool finite;
        using (var each = tensor.isfinite()) using (var all = each.all()) finite = all.item<bool>();
        if (!finite) { tensor.Dispose(); throw new ArgumentException("hidden states must be finite (no NaN or infinity)"); }
        return tensor;
    }
}
