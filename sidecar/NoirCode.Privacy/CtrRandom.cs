using System.Buffers.Binary;
using System.Security.Cryptography;

namespace NoirCode.Privacy;

/// <summary>
/// A cryptographically secure random stream: AES-256 in counter mode under a 256-bit key (the construction
/// of NIST's CTR_DRBG without reseeding). Keys come from the OS CSPRNG; a stream id lets parallel workers
/// draw independent streams from one key, so the result does not depend on scheduling.
/// </summary>
public sealed class CtrRandom : IDisposable
{
    const int BlocksPerRefill = 256;
    readonly Aes _aes;
    readonly ulong _stream;
    readonly byte[] _counters = new byte[16 * BlocksPerRefill];
    readonly byte[] _buffer = new byte[16 * BlocksPerRefill];
    ulong _counter;
    int _position;

    public CtrRandom(ReadOnlySpan<byte> key, ulong stream = 0)
    {
        if (key.Length != 32) throw new ArgumentException("the key must be 32 bytes (AES-256)");
        _aes = Aes.Create();
        _aes.Key = key.ToArray();
        _stream = stream;
        _position = _buffer.Length;
    }

    /// <summary>A fresh 32-byte key from the operating system's CSPRNG.</summary>
    public static byte[] NewKey() => RandomNumberGenerator.GetBytes(32);

    public ulong NextUInt64()
    {
        if (_position + 8 > _buffer.Length) Refill();
        ulong v = BinaryPrimitives.ReadUInt64LittleEndian(_buffer.AsSpan(_position));
        _position += 8;
        return v;
    }

    /// <summary>Uniform in [0, 1) with 53 bits of precision.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, n), without modulo bias.</summary>
    public int NextInt(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n));
        ulong limit = ulong.MaxValue - ulong.MaxValue % (ulong)n;
        ulong v;
        do v = NextUInt64(); while (v >= limit);
        return (int)(v % (ulong)n);
    }

    /// <summary>N(0, σ²) draws (Box–Muller), for noise the cloud must not predict.</summary>
    public float[] NextGaussians(long count, double sigma = 1)
    {
        var values = new float[count];
        for (long i = 0; i < count; i += 2)
        {
            double u = 1 - NextDouble(), v = NextDouble();
            double r = sigma * Math.Sqrt(-2 * Math.Log(u));
            values[i] = (float)(r * Math.Cos(2 * Math.PI * v));
            if (i + 1 < count) values[i + 1] = (float)(r * Math.Sin(2 * Math.PI * v));
        }
        return values;
    }

    void Refill()
    {
        for (int b = 0; b < BlocksPerRefill; b++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(_counters.AsSpan(16 * b), _stream);
            BinaryPrimitives.WriteUInt64LittleEndian(_counters.AsSpan(16 * b + 8), _counter++);
        }
        _aes.EncryptEcb(_counters, _buffer, PaddingMode.None);
        _position = 0;
    }

    public void Dispose() => _aes.Dispose();
}
