using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace NoirCode.Core.Model;

/// <summary>Final RMSNorm and the LM head (its own matrix, or the embedding's when tied).</summary>
public sealed class OutputHead : nn.Module<Tensor, Tensor>
{
    readonly RmsNorm norm;
    readonly Parameter lm_head;
    public bool Tied { get; }
    /// <summary>The final norm and the head matrix [V, D], for analyses that need the logits' Jacobian in parts.</summary>
    public RmsNorm Norm => norm;
    public Parameter Weight => lm_head;

    public OutputHead(ModelConfig c, Tensor normWeight, Parameter headWeight, bool tied) : base(nameof(OutputHead))
    {
        norm = new RmsNorm(normWeight, c.RmsNormEps);
        lm_head = headWeight;
        Tied = tied;
        RegisterComponents();
    }

    /// <summary>hidden [B, T, D] → logits [B, T, V]. Callers pass only the positions they need logits for.</summary>
    public override Tensor forward(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        return F.linear(norm.forward(hidden), lm_head).MoveToOuterDisposeScope();
    }

    public IEnumerable<(string Name, Parameter P)> NamedWeights()
    {
        yield return (ModelLayout.FinalNorm, norm.Weight);
        if (!Tied) yield return (ModelLayout.LmHead, lm_head);
    }
}
