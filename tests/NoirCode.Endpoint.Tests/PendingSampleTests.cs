using static TorchSharp.torch;

namespace NoirCode.Endpoint.Tests;

/// <summary>A sample awaiting its gradient owns its autograd graph: nothing leaks, whatever the gradient.</summary>
public class PendingSampleTests
{
    [Test]
    public void ABackwardPassThatThrowsStillFreesTheGraphAndTheGradient()
    {
        var input = randn(1, 3, 4).requires_grad_(true);
        var output = input * 2;
        var wrongShape = ones(1, 3, 5);
        var sample = new PendingSample(input, output, bytes: 0);
        Assert.That(() => sample.Backward(wrongShape), Throws.Exception);
        Assert.That((input.IsInvalid, output.IsInvalid, wrongShape.IsInvalid), Is.EqualTo((true, true, true)));
    }

    [Test]
    public void ABackwardPassReturnsTheInputGradientAndFreesTheRest()
    {
        var input = randn(1, 3, 4).requires_grad_(true);
        var output = input * 2;
        var gradient = ones(1, 3, 4);
        using var inputGrad = new PendingSample(input, output, bytes: 0).Backward(gradient);
        Assert.That(inputGrad.data<float>().ToArray(), Is.All.EqualTo(2f));
        Assert.That((input.IsInvalid, output.IsInvalid, gradient.IsInvalid), Is.EqualTo((true, true, true)));
    }
}
