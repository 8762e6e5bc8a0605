using static TorchSharp.torch;

namespace NoirCode.Endpoint;

/// <summary>
/// One STuning sample between its forward pass and its gradient: the autograd graph (input and output) and the
/// training memory it holds. It owns its tensors: <see cref="Backward"/> frees them (and the gradient) whether the
/// backward pass succeeds or throws, and <see cref="Dispose"/> frees a sample dropped without one.
/// </summary>
sealed class PendingSample(Tensor input, Tensor output, long bytes) : IDisposable
{
    public Tensor Input { get; } = input;
    public Tensor Output { get; } = output;
    /// <summary>Training memory held for the graph (<see cref="TrainingMemory"/>).</summary>
    public long Bytes { get; } = bytes;
    public long Positions => Output.shape[1];

    /// <summary>Runs the backward pass for <paramref name="gradient"/> (taken over) and returns dLoss/d(input).
    /// LoRA gradients accumulate over the samples of a step; the caller counts the sample.</summary>
    public Tensor Backward(Tensor gradient)
    {
        try
        {
            Output.backward(new[] { gradient });
            using var grad = Input.grad ?? throw new InvalidOperationException("the forward pass recorded no gradient for its input");
            using var detached = grad.detach();
            return detached.clone();
        }
        finally
        {
            gradient.Dispose();
            Dispose();
        }
    }

    public void Dispose()
    {
        Input.Dispose();
        Output.Dispose();
    }
}
