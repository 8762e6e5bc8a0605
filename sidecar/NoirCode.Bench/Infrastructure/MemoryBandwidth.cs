using System.Diagnostics;

namespace NoirCode.Bench.Infrastructure;

/// <summary>
/// The machine's memory read bandwidth, measured: every core sums its part of a 1 GiB array (far larger than any
/// cache), best of a few passes. Decoding one token reads every weight once, so weight bytes ÷ this bandwidth is the
/// least time a token can take (the roofline of a memory-bound decode).
/// </summary>
public static class MemoryBandwidth
{
    public static double BytesPerSecond()
    {
        var data = new float[256L << 20];
        for (long i = 0; i < data.LongLength; i += 1024) data[i] = 1;   // touch every page before timing
        int workers = Environment.ProcessorCount;
        long part = data.LongLength / workers;
        double best = 0;
        for (int pass = 0; pass < 4; pass++)
        {
            var clock = Stopwatch.StartNew();
            var sums = new float[workers];
            Parallel.For(0, workers, w =>
            {
                var span = data.AsSpan((int)(w * part), (int)part);
                var vectors = System.Runtime.InteropServices.MemoryMarshal.Cast<float, System.Numerics.Vector<float>>(span);
                var sum = System.Numerics.Vector<float>.Zero;
                foreach (var v in vectors) sum += v;
                sums[w] = System.Numerics.Vector.Sum(sum);
            });
            best = Math.Max(best, data.LongLength * 4.0 / clock.Elapsed.TotalSeconds);
            GC.KeepAlive(sums);
        }
        return best;
    }
}
