using static TorchSharp.torch;

namespace NoirCode.Privacy;

/// <summary>Fresh N(0, σ²) noise per coordinate from a CSPRNG stream whose key never leaves this object
/// (<see cref="CtrRandom.NextGaussians"/>): the cloud cannot predict it from what it has seen.</summary>
public sealed class SecretGaussianNoise : IDisposable
{
    readonly CtrRandom _stream = new(CtrRandom.NewKey());

    /// <summary>The standard deviation per coordinate.</summary>
    public double Sigma { get; }

    public SecretGaussianNoise(double sigma)
    {
        if (!(sigma > 0) || double.IsInfinity(sigma)) throw new ArgumentOutOfRangeException(nameof(sigma), "the noise scale must be a positive number");
        Sigma = sigma;
    }

    /// <summary>Noise of this shape, float32.</summary>
    public Tensor Next(long[] shape) => tensor(_stream.NextGaussians(shape.Aggregate(1L, (a, b) => a * b), Sigma), shape);

    public void Dispose() => _stream.Dispose();
}
