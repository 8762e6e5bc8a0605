using NoirCode.Attack.Evaluation;
using NoirCode.Attack.Volume;
using NoirCode.Core.Split;

namespace NoirCode.Attack.Tests;

/// <summary>The clustering screen on the real bundled model: under one key the wire clusters by token; noise far
/// larger than the signal blurs single occurrences, and the screen shows it.</summary>
public class WireGeometryTests
{
    [Test]
    public void UnderOneKeyTheWireClustersByTokenAndHeavyNoiseBlursSingleOccurrences()
    {
        var keyed = WireGeometry.Measure(AttackFixture.Model, SplitSpec.Default, residualNoise: 0, homophones: 1, tokens: 4_000, VolumeRun.Thresholds);
        Assert.That(keyed.Clustering.Purity, Is.GreaterThan(0.95));
        Assert.That(keyed.Clustering.Completeness, Is.GreaterThan(0.95));
        Assert.That(WireGeometry.Quantile(keyed.SameToken, 0.5), Is.GreaterThan(WireGeometry.Quantile(keyed.OtherToken, 0.999)),
            "two occurrences of a token sit closer than almost any two tokens");

        var noisy = WireGeometry.Measure(AttackFixture.Model, SplitSpec.Default, residualNoise: 3, homophones: 1, tokens: 4_000, VolumeRun.Thresholds);
        Assert.That(WireGeometry.Quantile(noisy.SameToken, 0.5), Is.LessThan(WireGeometry.Quantile(noisy.OtherToken, 0.99)));
        Assert.That(WireGeometry.Quantile(noisy.ToOwnMean, 0.5), Is.GreaterThan(WireGeometry.Quantile(noisy.SameToken, 0.5)),
            "a token's mean is cleaner than any one occurrence: what refinement uses");
    }
}
