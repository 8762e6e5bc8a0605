using System.Runtime.InteropServices;
using NoirCode.Core.Model;
using static TorchSharp.torch;

namespace NoirCode.Privacy.Egress;

/// <summary>
/// How hidden states are encoded on the wire. fp16 (default) halves fp32's bytes; int8 blockwise quarters them
/// (one float32 scale per 64 values). After INDVocab the noise dwarfs either quantisation step.
/// </summary>
public enum WireDtype { Float16, BFloat16, Float32, Int8Blockwise }

/// <summary>Encodes [T, D] hidden states as little-endian bytes of the wire dtype, and back to float32.</summary>
public static class HiddenStateCodec
{
    public const int Int8Block = 64;

    /// <summary>Bytes for <paramref name="values"/> numbers: data, plus the scales for int8.</summary>
    public static long PayloadBytes(WireDtype dtype, long values) => dtype switch
    {
        WireDtype.Float32 => 4 * values,
        WireDtype.Int8Blockwise => values + 4 * ((values + Int8Block - 1) / Int8Block),
        _ => 2 * values,
    };

    static ScalarType Scalar(WireDtype dtype) => dtype switch
    {
        WireDtype.Float16 => ScalarType.Float16,
        WireDtype.BFloat16 => ScalarType.BFloat16,
        _ => ScalarType.Float32,
    };

    public static byte[] Encode(Tensor hidden, WireDtype dtype)
    {
        if (dtype != WireDtype.Int8Blockwise) return TensorBytes.ToBytes(hidden, Scalar(dtype));
        var values = TensorBytes.ToBytes(hidden, ScalarType.Float32);
        var floats = MemoryMarshal.Cast<byte, float>(values);
        int blocks = (floats.Length + Int8Block - 1) / Int8Block;
        var payload = new byte[floats.Length + 4 * blocks];
        var scales = MemoryMarshal.Cast<byte, float>(payload.AsSpan(floats.Length));
        for (int b = 0; b < blocks; b++)
        {
            var block = floats.Slice(b * Int8Block, Math.Min(Int8Block, floats.Length - b * Int8Block));
            float max = 0;
            foreach (var v in block) max = Math.Max(max, Math.Abs(v));
            float scale = max > 0 ? max / 127f : 1f;
            scales[b] = scale;
            for (int i = 0; i < block.Length; i++) payload[b * Int8Block + i] = (byte)(sbyte)Math.Clamp(MathF.Round(block[i] / scale), -127, 127);
        }
        return payload;
    }

    /// <returns>float32 [1, T, D]</returns>
    public static Tensor Decode(byte[] payload, WireDtype dtype, long tokens, int hidden)
    {
        long count = tokens * hidden;
        if (payload.LongLength != PayloadBytes(dtype, count))
            throw new ArgumentException($"payload of {payload.Length} bytes is not {tokens}×{hidden} values of {dtype}");
        if (dtype != WireDtype.Int8Blockwise)
            return TensorBytes.FromBytes(payload, TensorBytes.ToDtypeName(Scalar(dtype)), new[] { 1, tokens, (long)hidden }, ScalarType.Float32);
        var scales = MemoryMarshal.Cast<byte, float>(payload.AsSpan((int)count));
        var values = new float[count];
        for (long i = 0; i < count; i++) values[i] = (sbyte)payload[i] * scales[(int)(i / Int8Block)];
        return tensor(values, new[] { 1, tokens, (long)hidden });
    }
}
