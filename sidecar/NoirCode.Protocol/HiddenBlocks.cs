using Google.Protobuf;
using NoirCode.Privacy.Egress;
using static TorchSharp.torch;

namespace NoirCode.Protocol;

/// <summary>Converts between protocol HiddenBlocks and tensors, with every check a receiver needs.</summary>
public static class HiddenBlocks
{
    public static Privacy.Egress.WireDtype ToWire(Protocol.WireDtype d) => d switch
    {
        Protocol.WireDtype.Float16 => Privacy.Egress.WireDtype.Float16,
        Protocol.WireDtype.Float32 => Privacy.Egress.WireDtype.Float32,
        Protocol.WireDtype.Bfloat16 => Privacy.Egress.WireDtype.BFloat16,
        Protocol.WireDtype.Int8Blockwise => Privacy.Egress.WireDtype.Int8Blockwise,
        _ => throw new ArgumentException($"unknown wire dtype {d}"),
    };

    public static Protocol.WireDtype FromWire(Privacy.Egress.WireDtype d) => d switch
    {
        Privacy.Egress.WireDtype.Float16 => Protocol.WireDtype.Float16,
        Privacy.Egress.WireDtype.Float32 => Protocol.WireDtype.Float32,
        Privacy.Egress.WireDtype.BFloat16 => Protocol.WireDtype.Bfloat16,
        Privacy.Egress.WireDtype.Int8Blockwise => Protocol.WireDtype.Int8Blockwise,
        _ => throw new ArgumentException($"unknown wire dtype {(int)d}"),
    };

    /// <summary>The block for a packet the egress guard admitted: its bytes, unchanged.</summary>
    public static HiddenBlock FromPacket(EgressPacket packet)
    {
        var block = new HiddenBlock { Dtype = FromWire(packet.Dtype), Tokens = (uint)packet.Tokens, Hidden = (uint)packet.HiddenSize };
        long dataBytes = packet.Dtype == Privacy.Egress.WireDtype.Int8Blockwise ? packet.Tokens * packet.HiddenSize : packet.Payload.LongLength;
        block.Data = ByteString.CopyFrom(packet.Payload, 0, (int)dataBytes);
        if (dataBytes < packet.Payload.LongLength) block.Scales = ByteString.CopyFrom(packet.Payload, (int)dataBytes, packet.Payload.Length - (int)dataBytes);
        return block;
    }

    /// <summary>Encodes a tensor [1, T, D] (endpoint replies, which carry no client data).</summary>
    public static HiddenBlock Encode(Tensor hidden, Protocol.WireDtype dtype)
    {
        var wire = ToWire(dtype);
        byte[] payload = HiddenStateCodec.Encode(hidden, wire);
        long tokens = hidden.shape[^2], size = hidden.shape[^1];
        return FromPacket(new EgressPacket(EgressKind.HiddenStates, 0, tokens, (int)size, wire, payload));
    }

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
        var wire = ToWire(block.Dtype);
        long values = (long)block.Tokens * block.Hidden;
        long expected = HiddenStateCodec.PayloadBytes(wire, values);
        long got = block.Data.Length + block.Scales.Length;
        if (got != expected) throw new ArgumentException($"{got} bytes do not hold {block.Tokens}×{block.Hidden} values of {block.Dtype} ({expected} expected)");
        var payload = new byte[expected];
        block.Data.CopyTo(payload, 0);
        block.Scales.CopyTo(payload, block.Data.Length);
        var tensor = HiddenStateCodec.Decode(payload, wire, block.Tokens, expectedHidden);
        bool finite;
        using (var each = tensor.isfinite()) using (var all = each.all()) finite = all.item<bool>();
        if (!finite) { tensor.Dispose(); throw new ArgumentException("hidden states must be finite (no NaN or infinity)"); }
        return tensor;
    }
}
