using TorchSharp;
using static TorchSharp.torch;

namespace NoirCode.Core.Model;

/// <summary>
/// Tensor addition that is safe from TorchSharp's scalar lifetime bug: `a + b` calls add(b, alpha: 1) with an
/// implicit Scalar that nothing keeps alive, so a garbage collection can free it while libtorch reads it (a crash,
/// "Expected false to be true" in Scalar::toLong; ScalarLifetimeTests). The alpha here is held by a static field.
/// </summary>
public static class TensorSum
{
    static readonly Scalar One = 1.ToScalar();

    public static Tensor Plus(this Tensor a, Tensor b) => a.add(b, One);
}
