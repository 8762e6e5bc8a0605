using TorchSharp;
using static TorchSharp.torch;

namespace NoirCode.Core.Model;

/// <summary>Root-mean-square layer norm, computed in float32 as the Llama reference does.</summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    readonly TorchSharp.Modules.Parameter weight;
    readonly double _eps;

    public RmsNorm(Tensor weight, double eps) : base(nameof(RmsNorm))
    {
        this.weight = new TorchSharp.Modules.Parameter(weight);
        _eps = eps;
        RegisterComponents();
    }

    public TorchSharp.Modules.Parameter Weight => weight;

    /// <summary>x [..., D] → [..., D], each row scaled to unit root-mean-square, then by the weight [D].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        // Explicit scalars, disposed after use: TorchSharp hands an implicit one (`t + 1e-5`) to libtorch without keeping
        // it alive, and a garbage collection can free it mid-call (ScalarLifetimeTests).
        using var eps = _eps.ToScalar();
        using var one = 1.ToScalar();
        var xf = x.to(ScalarType.Float32);
        var normed = xf * rsqrt((xf * xf).mean(new long[] { -1 }, keepdim: true).add(eps, one));
        return (weight * normed.to(x.dtype)).MoveToOuterDisposeScope();
    }
}
