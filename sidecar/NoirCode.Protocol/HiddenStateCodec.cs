using System.Runtime.InteropServices;
using NoirCode.Core.Model;
using static TorchSharp.torch;

namespace NoirCode.Protocol;

/// <summary>
/// Encodes [T, D] hidden states as little-endian bytes of a <see cref="WireDtype"/> (the proto's enum, the only
/// one), and back to float32. fp16 (default) halves fp32's bytes; int8 blockwise quarters them (one float32 scale
/// per 64 values). After INDVocab the noise dwarfs either quantisation step.
/// </summary>
/// <remarks>
/// Encoding is internal, visible only to the egress guard (NoirCode.Privacy) and the endpoint (its replies): the
/// client transport cannot turn a tensor into wire bytes itself, so client data reaches a request only through
/// <c>EgressGuard.Admit</c>. Decoding is public: reading bytes sends nothing.
/// </remarks>
public static class HiddenStateCodec
{
    public const int Int8Block = 64;

    /// <summary>Refuses a dtype the proto does not define (an enum cast from a number can hold any value).</summary>
    public static WireDtype Known(WireDtype dtype) =>
        Enum.IsDefined(dtype) ? dtype : throw new ArgumentException($"unknown wire dtype {(int)dtype}");

    /// <summary>Bytes for <paramref name="values"/> numbers: data, plus the scales for int8.</summary>
    public static long PayloadBytes(WireDtype dtype, long values) => Known(dtype) switch
    {
        WireDtype.Float32 => 4 * values,
        WireDtype.Int8Blockwise => values + 4 * ((values + Int8Block - 1) / Int8Block),
        _ => 2 * values,
    };

    /// <summary>Bytes of the data part; the rest of a payload (int8 only) is the scales.</summary>
    public static long DataBytes(WireDtype dtype, long values) => Known(dtype) == WireDtype.Int8Blockwise ? values : PayloadBytes(dtype, values);

    static ScalarType Scalar(WireDtype dtype) => Known(dtype) switch
    {
        WireDtype.Float16 => ScalarType.Float16,
        WireDtype.Bfloat16 => ScalarType.BFloat16,
        _ => ScalarType.Float32,
    };

    internal static byte[] Encode(Tensor hidden, WireDtype dtype)
    {
        if (Known(dtype) != WireDtype.Int8Blockwise) return TensorBytes.ToBytes(hidden, Scalar(dtype));
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
    public static Tensor Decode(ReadOnlySpan<byte> payload, WireDtype dtype, long tokens, int hidden)
    {
        long count = tokens * hidden;
        if (payload.Length != PayloadBytes(dtype, count))
            throw new ArgumentException($"payload of {payload.Length} bytes is not {tokens}×{hidden} values of {dtype}");
        if (dtype != WireDtype.Int8Blockwise)
            return TensorBytes.FromBytes(payload.ToArray(), TensorBytes.ToDtypeName(Scalar(dtype)), new[] { 1, tokens, (long)hidden }, ScalarType.Float32);
        var scales = MemoryMarshal.Cast<byte, float>(payload[(int)count..]);
        var values = new float[count];
        for (long i = 0; i < count; i++) values[i] = (sbyte)payload[(int)i] * scales[(int)(i / Int8Block)];
        return tensor(values, new[] { 1, tokens, (long)hidden });
    }
}
