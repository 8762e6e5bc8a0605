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
        using var scope = NewDisposeScope();
        Assert.That(() => sample.Backward(wrongShape), Throws.Exception);
        Assert.That((input.IsInvalid, output.IsInvalid, wrongShape.IsInvalid), Is.EqualTo((true, true, true)));
        Assert.That(scope.DisposablesCount, Is.EqualTo(0), "nothing else left behind");
    }

    [Test]
    public void ABackwardPassReturnsTheInputGradientAndFreesTheRest()
    {
        var input = randn(1, 3, 4).requires_grad_(true);
        var output = input * 2;
        var gradient = ones(1, 3, 4);
        var sample = new PendingSample(input, output, bytes: 0);
        using var scope = NewDisposeScope();
        using var inputGrad = sample.Backward(gradient);
        Assert.That(scope.DisposablesCount, Is.EqualTo(1), "only the input gradient it returns (the grad and detach handles are freed)");
        Assert.That(inputGrad.data<float>().ToArray(), Is.All.EqualTo(2f));
        Assert.That((input.IsInvalid, output.IsInvalid, gradient.IsInvalid), Is.EqualTo((true, true, true)));
    }
}
