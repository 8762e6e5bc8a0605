using NoirCode.Core.Generation;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using static TorchSharp.torch;
using NoirCode.Testing.Sessions;

namespace NoirCode.Privacy.Tests;

/// <summary>Per-occurrence noise with residual cancellation.</summary>
public class ResidualMaskTests
{
    [Test]
    public void TheCloudSeesFreshNoiseEachTimeAndTheClientGetsItsOwnStateBack()
    {
        // 64 × 256 coordinates: the standard error of the measured mean is 0.004 and of the std 0.003, so the
        // 0.03 tolerances below are 7 standard errors (at 2,048 coordinates they were 2.7, and failed ~1 run in 150).
        using var hidden = randn(1, 64, 256);
        using var positions = arange(64);
        var middle = new ScriptedMiddleSession(); // no blocks: it returns what it received (zero deltas), which it records
        using var mask = new ResidualMask(middle, sigma: 0.5);
        using var first = mask.Forward(hidden, positions);
        using var second = mask.Forward(hidden, positions);
        // Zero deltas: the cancellation is exact.
        Assert.That(first.allclose(hidden, rtol: 0, atol: 1e-5), Is.True);
        Assert.That(second.allclose(hidden, rtol: 0, atol: 1e-5), Is.True);
        using var seen1 = middle.Received[0] - hidden;
        using var seen2 = middle.Received[1] - hidden;
        Assert.That(seen1.std().item<float>(), Is.EqualTo(0.5).Within(0.03), "N(0, σ²) per coordinate");
        Assert.That(seen1.mean().item<float>(), Is.EqualTo(0).Within(0.03));
        Assert.That((seen1 - seen2).abs().max().item<float>(), Is.GreaterThan(0.1), "the same state is sent with fresh noise each time");
    }

    [Test]
    public void ThroughRealMiddleBlocksOnlyTheDeltasErrorStays()
    {
        // The real middle blocks of a random model: taking the noise off what comes back leaves the client closer to
        // the noiseless state than leaving it on (only the middle's deltas carry the noise's effect).
        using var client = ClientModel.Load(Fixtures.Model);
        using var cloud = CloudShard.Load(Fixtures.Model);
        var ids = client.Tokenizer.Encode("def add(a, b):\n    return a + b\n\nprint(add(1, 2))");
        using var idTensor = tensor(ids.Select(i => (long)i).ToArray()).unsqueeze(0);
        using var positions = arange(ids.Count);
        using var _ = no_grad();
        using var encoded = client.FirstBlocks(idTensor, positions, cache: null);
        double sigma = 0.05 * encoded.std().item<float>();
        using var middle = new LocalMiddleSession(cloud);
        using var plain = middle.Forward(encoded, positions);
        using var mask = new ResidualMask(middle, sigma);
        using var source = new SecretGaussianNoise(sigma);
        using var noise = source.Next(encoded.shape);
        middle.Truncate(0);
        using var noised = middle.Forward(encoded + noise, positions);
        double kept = (noised - plain).norm().item<float>(), cancelled = (noised - noise - plain).norm().item<float>();
        Assert.That(cancelled, Is.LessThan(kept), $"with the noise taken off {cancelled:G3}, left on {kept:G3}");
        middle.Truncate(0);
        using var masked = mask.Forward(encoded, positions);
        Assert.That((masked - plain).norm().item<float>(), Is.GreaterThan(0).And.LessThan(kept), "the mask takes its own noise off");
    }

    [Test]
    public void ANoiseScaleMustBePositive()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ResidualMask(new ScriptedMiddleSession(), 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ResidualMask(new ScriptedMiddleSession(), double.NaN));
    }
}
