using System.Runtime.InteropServices;

namespace NoirCode.Core.Weights;

/// <summary>Streams float32 arrays to and from the stored float formats (F32, BF16, F16), a chunk at a time.</summary>
public static class FloatCodec
{
    const int Chunk = 1 << 20; // values per chunk: bounded buffers whatever the tensor's size

    public static void Write(Stream stream, float[] values, string dtype)
    {
        int size = SafetensorsFile.DtypeSizes[dtype];
        var buffer = new byte[Chunk * size];
        for (long start = 0; start < values.LongLength; start += Chunk)
        {
            int n = (int)Math.Min(Chunk, values.LongLength - start);
            var src = values.AsSpan((int)start, n);
            switch (dtype)
            {
                case "F32": MemoryMarshal.AsBytes(src).CopyTo(buffer); break;
                case "BF16": for (int i = 0; i < n; i++) BitConverter.TryWriteBytes(buffer.AsSpan(2 * i), ToBFloat16(src[i])); break;
                case "F16": for (int i = 0; i < n; i++) BitConverter.TryWriteBytes(buffer.AsSpan(2 * i), (Half)src[i]); break;
                default: throw new ArgumentException($"{dtype} is not a float type");
            }
            stream.Write(buffer, 0, n * size);
        }
    }

    public static void Read(Stream stream, float[] destination, string dtype)
    {
        int size = SafetensorsFile.DtypeSizes[dtype];
        var buffer = new byte[Chunk * size];
        for (long start = 0; start < destination.LongLength; start += Chunk)
        {
            int n = (int)Math.Min(Chunk, destination.LongLength - start);
            stream.ReadExactly(buffer, 0, n * size);
            var dst = destination.AsSpan((int)start, n);
            switch (dtype)
            {
                case "F32": buffer.AsSpan(0, n * 4).CopyTo(MemoryMarshal.AsBytes(dst)); break;
                case "BF16": for (int i = 0; i < n; i++) dst[i] = BitConverter.Int32BitsToSingle(BitConverter.ToUInt16(buffer, 2 * i) << 16); break;
                case "F16": for (int i = 0; i < n; i++) dst[i] = (float)BitConverter.ToHalf(buffer, 2 * i); break;
                default: throw new ArgumentException($"{dtype} is not a float type");
            }
        }
    }

    /// <summary>bfloat16 bits of a float, rounded to nearest even.</summary>
    public static ushort ToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        return (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
    }
}
