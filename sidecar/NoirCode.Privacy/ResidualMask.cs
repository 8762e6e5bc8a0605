using NoirCode.Core.Generation;
using static TorchSharp.torch;

namespace NoirCode.Privacy;

/// <summary>
/// Per-occurrence noise with residual cancellation: every hidden state leaves with fresh secret Gaussian noise n
/// added, so the same token stops arriving as the same point; the middle blocks are residual (out = in + Σ deltas), so
/// subtracting n from what comes back leaves the middle's deltas computed on the noised input, and only their error
/// stays. The noise comes from a CSPRNG stream whose key never leaves this object.
/// </summary>
public sealed class ResidualMask : IMiddleSession
{
    readonly IMiddleSession _inner;
    readonly CtrRandom _noise = new(CtrRandom.NewKey());

    /// <summary>The noise's standard deviation per coordinate.</summary>
    public double Sigma { get; }

    public ResidualMask(IMiddleSession inner, double sigma)
    {
        if (!(sigma > 0) || double.IsInfinity(sigma)) throw new ArgumentOutOfRangeException(nameof(sigma), "the noise scale must be a positive number");
        _inner = inner; Sigma = sigma;
    }

    public Tensor Forward(Tensor hidden, Tensor positions)
    {
        using var scope = NewDisposeScope();
        var noise = Noise(hidden.shape).to(hidden.dtype, hidden.device);
        var enriched = _inner.Forward(hidden + noise, positions);
        return (enriched - noise.to(enriched.dtype)).MoveToOuterDisposeScope();
    }

    /// <summary>Fresh N(0, σ²) noise of this shape (Box–Muller on the CSPRNG).</summary>
    public Tensor Noise(long[] shape)
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        var values = new float[count];
        for (long i = 0; i < count; i += 2)
        {
            double u = 1 - _noise.NextDouble(), v = _noise.NextDouble();
            double r = Sigma * Math.Sqrt(-2 * Math.Log(u));
            values[i] = (float)(r * Math.Cos(2 * Math.PI * v));
            if (i + 1 < count) values[i + 1] = (float)(r * Math.Sin(2 * Math.PI * v));
        }
        return tensor(values, shape);
    }

    public void Truncate(long length) => _inner.Truncate(length);
    public void Dispose() { _inner.Dispose(); _noise.Dispose(); }
}
