using NoirCode.Core.Generation;
using static TorchSharp.torch;

namespace NoirCode.Privacy;

/// <summary>
/// Per-occurrence noise with residual cancellation: every hidden state leaves with fresh secret Gaussian noise n
/// added, so the same token stops arriving as the same point; the middle blocks are residual (out = in + Σ deltas), so
/// subtracting n from what comes back leaves the middle's deltas computed on the noised input, and only their error
/// stays.
/// </summary>
public sealed class ResidualMask : IMiddleSession
{
    readonly IMiddleSession _inner;
    readonly SecretGaussianNoise _noise;

    public double Sigma => _noise.Sigma;

    public ResidualMask(IMiddleSession inner, double sigma)
    {
        _noise = new SecretGaussianNoise(sigma);
        _inner = inner;
    }

    public Tensor Forward(Tensor hidden, Tensor positions)
    {
        using var scope = NewDisposeScope();
        var noise = _noise.Next(hidden.shape).to(hidden.dtype, hidden.device);
        var enriched = _inner.Forward(hidden + noise, positions);
        return (enriched - noise.to(enriched.dtype)).MoveToOuterDisposeScope();
    }

    public void Truncate(long length) => _inner.Truncate(length);
    public void Dispose() { _inner.Dispose(); _noise.Dispose(); }
}
