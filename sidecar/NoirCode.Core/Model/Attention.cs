using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace NoirCode.Core.Model;

/// <summary>Grouped-query causal self-attention with rotary positions and an optional KV cache.</summary>
public sealed class Attention : nn.Module
{
    readonly Parameter q_proj, k_proj, v_proj, o_proj;
    readonly Parameter? q_bias, k_bias, v_bias, o_bias;
    readonly int _heads, _kvHeads, _headDim;

    public Attention(ModelConfig c, Func<string, Parameter> weight, Func<string, Parameter?> optional) : base(nameof(Attention))
    {
        (_heads, _kvHeads, _headDim) = (c.NumHeads, c.NumKvHeads, c.HeadDim);
        q_proj = weight("q_proj.weight"); k_proj = weight("k_proj.weight"); v_proj = weight("v_proj.weight"); o_proj = weight("o_proj.weight");
        q_bias = optional("q_proj.bias"); k_bias = optional("k_proj.bias"); v_bias = optional("v_proj.bias"); o_bias = optional("o_proj.bias");
        RegisterComponents();
    }

    /// <param name="x">[B, T, D]</param>
    /// <param name="mask">null for causal prefill from position 0 or a single new token; else [T, past+T], true = attend</param>
    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, LayerKvCache? cache, Tensor? mask)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], t = x.shape[1];
        var q = F.linear(x, q_proj, q_bias).view(b, t, _heads, _headDim).transpose(1, 2);
        var k = F.linear(x, k_proj, k_bias).view(b, t, _kvHeads, _headDim).transpose(1, 2);
        var v = F.linear(x, v_proj, v_bias).view(b, t, _kvHeads, _headDim).transpose(1, 2);
        q = RotaryEmbedding.Apply(q, cos, sin);
        k = RotaryEmbedding.Apply(k, cos, sin);
        bool firstChunk = cache is null || cache.Length == 0;
        if (cache is not null) (k, v) = cache.Append(k, v);
        if (_kvHeads != _heads)
        {
            k = k.repeat_interleave(_heads / _kvHeads, 1);
            v = v.repeat_interleave(_heads / _kvHeads, 1);
        }
        bool causal = mask is null && t > 1 && firstChunk;
        var y = F.scaled_dot_product_attention(q, k, v, mask, 0.0, causal);
        y = y.transpose(1, 2).reshape(b, t, _heads * _headDim);
        return F.linear(y, o_proj, o_bias).MoveToOuterDisposeScope();
    }

    public IEnumerable<(string Suffix, Parameter P)> Named()
    {
        yield return ("q_proj.weight", q_proj); yield return ("k_proj.weight", k_proj);
        yield return ("v_proj.weight", v_proj);
        if (q_bias is not null) { yield return ("q_proj.bias", q_bias); yield return ("k_proj.bias", k_bias!); yield return ("v_proj.bias", v_bias!); }
        yield return ("o_proj.weight", o_proj);
        if (o_bias is not null) yield return ("o_proj.bias", o_bias);
    }
}
