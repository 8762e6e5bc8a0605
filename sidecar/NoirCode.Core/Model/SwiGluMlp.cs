using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace NoirCode.Core.Model;

/// <summary>The Llama feed-forward: down(silu(gate(x)) * up(x)).</summary>
public sealed class SwiGluMlp : nn.Module<Tensor, Tensor>
{
    readonly Parameter gate_proj, up_proj, down_proj;
    readonly Parameter? gate_bias, up_bias, down_bias;

    public SwiGluMlp(Func<string, Parameter> weight, Func<string, Parameter?> optional) : base(nameof(SwiGluMlp))
    {
        gate_proj = weight("gate_proj.weight"); up_proj = weight("up_proj.weight"); down_proj = weight("down_proj.weight");
        gate_bias = optional("gate_proj.bias"); up_bias = optional("up_proj.bias"); down_bias = optional("down_proj.bias");
        RegisterComponents();
    }

    /// <summary>x [B, T, D] → [B, T, D], through the intermediate width I ([B, T, I]).</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = F.silu(F.linear(x, gate_proj, gate_bias)) * F.linear(x, up_proj, up_bias);
        return F.linear(h, down_proj, down_bias).MoveToOuterDisposeScope();
    }

    public IEnumerable<(string Suffix, Parameter P)> Named()
    {
        yield return ("gate_proj.weight", gate_proj); yield return ("up_proj.weight", up_proj); yield return ("down_proj.weight", down_proj);
        if (gate_bias is not null) { yield return ("gate_proj.bias", gate_bias); yield return ("up_proj.bias", up_bias!); yield return ("down_proj.bias", down_bias!); }
    }
}
