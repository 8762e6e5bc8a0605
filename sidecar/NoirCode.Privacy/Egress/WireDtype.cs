using NoirCode.Core.Model;
using static TorchSharp.torch;

namespace NoirCode.Privacy.Egress;

/// <summary>How hidden states are encoded on the wire. fp16 halves the bytes at no measurable cost after noising.</summary>
public enum WireDtype { Float16, BFloat16, Float32 }

/// <summary>Encodes [T, D] hidden states as little-endian bytes of the wire dtype, and back to float32.</summary>
public static class HiddenStateCodec
{
    public static int BytesPerValue(WireDtype dtype) => dtype == WireDtype.Float32 ? 4 : 2;

    static ScalarType Scalar(WireDtype dtype) => dtype switch
    {
        WireDtype.Float16 => ScalarType.Float16,
        WireDtype.BFloat16 => ScalarType.BFloat16,
        _ => ScalarType.Float32,
    };

    public static byte[] Encode(Tensor hidden, WireDtype dtype) => TensorBytes.ToBytes(hidden, Scalar(dtype));

    /// <returns>float32 [1, T, D]</returns>
    public static Tensor Decode(byte[] payload, WireDtype dtype, long tokens, int hidden)
    {
        if (payload.LongLength != tokens * hidden * BytesPerValue(dtype))
            throw new ArgumentException($"payload of {payload.Length} bytes is not {tokens}×{hidden} values of {dtype}");
        return TensorBytes.FromBytes(payload, TensorBytes.ToDtypeName(Scalar(dtype)), new[] { 1, tokens, (long)hidden }, ScalarType.Float32);
    }
}
