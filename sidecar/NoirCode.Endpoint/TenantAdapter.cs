using NoirCode.Core.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace NoirCode.Endpoint;

/// <summary>
/// A tenant's LoRA on the middle blocks, its optimiser state, and how many steps it has taken: the compute side of a
/// training stream (the gRPC handler only decodes, checks and replies). Used on the model worker thread only.
/// </summary>
public sealed class TenantAdapter
{
    public required LoraAdapter Adapter { get; init; }
    public required Core.Training.AdamW Optimizer { get; init; }
    public long Steps { get; set; }
    /// <summary>Samples whose gradients have been accumulated since the last step.</summary>
    public int PendingSamples { get; private set; }

    /// <summary>One sample's backward pass: its gradient accumulates into the adapter; returns ∂L/∂input for the client.</summary>
    internal Tensor Backward(PendingSample sample, Tensor outputGradient)
    {
        var inputGradient = sample.Backward(outputGradient);
        PendingSamples++;
        return inputGradient;
    }

    /// <summary>The optimiser step on the mean of the accumulated gradients; returns the step number and its samples.
    /// A step whose gradients are all zero (a forward-only client sends no label's gradient) is counted but moves
    /// nothing: AdamW's momentum and weight decay would otherwise drift the adapter with no signal.</summary>
    /// <exception cref="InvalidOperationException">no gradient has been accumulated since the last step</exception>
    public (long Step, int Samples) Step()
    {
        int n = PendingSamples;
        if (n == 0) throw new InvalidOperationException("no sample gradients to apply");
        using (no_grad())
        using (var divisor = n.ToScalar()) // explicit and kept alive through the calls (see RmsNorm)
            foreach (var p in Adapter.parameters()) p.grad?.div_(divisor);
        if (!AllGradientsZero()) Optimizer.step();
        Optimizer.zero_grad();
        PendingSamples = 0;
        return (++Steps, n);
    }

    bool AllGradientsZero()
    {
        using var _ = no_grad();
        foreach (var p in Adapter.parameters())
            if (p.grad is { } g && g.count_nonzero().item<long>() > 0) return false;
        return true;
    }
}
