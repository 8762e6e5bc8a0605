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
    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, LayerKvCache? cache, Tensor? mask, LoraLayer? lora = null)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], t = x.shape[1];
        var (qFlat, vFlat) = ProjectQv(x, lora);
        var q = qFlat.view(b, t, _heads, _headDim).transpose(1, 2);
        var k = F.linear(x, k_proj, k_bias).view(b, t, _kvHeads, _headDim).transpose(1, 2);
        var v = vFlat.view(b, t, _kvHeads, _headDim).transpose(1, 2);
        q = RotaryEmbedding.Apply(q, cos, sin);
        k = RotaryEmbedding.Apply(k, cos, sin);
        bool firstChunk = cache is null || cache.Length == 0;
        if (cache is not null) (k, v) = cache.Append(k, v);
        if (t == 1 && mask is null)
            return F.linear(AttendOnePosition(q, k, v).transpose(1, 2).reshape(b, 1, _heads * _headDim), o_proj, o_bias).MoveToOuterDisposeScope();
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

    (Tensor Q, Tensor V) ProjectQv(Tensor x, LoraLayer? lora)
    {
        var q = F.linear(x, q_proj, q_bias);
        var v = F.linear(x, v_proj, v_bias);
        if (lora is null) return (q, v);
        return (q.Plus(LoraAdapter.Delta(x, lora.QA, lora.QB, lora.Scale)), v.Plus(LoraAdapter.Delta(x, lora.VA, lora.VB, lora.Scale)));
    }

    /// <summary>
    /// One decode step for several independent sequences at once: x [B, 1, D], each row with its own position
    /// (in cos/sin), KV cache and adapter. The projections run batched (the weights are read once for all rows,
    /// which is what makes batching pay on a bandwidth-bound machine); attention runs per row over its own cache.
    /// </summary>
    public Tensor ForwardRows(Tensor x, Tensor cos, Tensor sin, IReadOnlyList<LayerKvCache> caches, IReadOnlyList<LoraLayer?> loras)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0];
        var q = F.linear(x, q_proj, q_bias);
        var k = F.linear(x, k_proj, k_bias);
        var v = F.linear(x, v_proj, v_bias);
        if (loras.Any(l => l is not null))
        {
            var qRows = new Tensor[b];
            var vRows = new Tensor[b];
            for (int r = 0; r < b; r++)
            {
                var xr = x.narrow(0, r, 1);
                qRows[r] = q.narrow(0, r, 1);
                vRows[r] = v.narrow(0, r, 1);
                if (loras[r] is { } l)
                {
                    qRows[r] = qRows[r].Plus(LoraAdapter.Delta(xr, l.QA, l.QB, l.Scale));
                    vRows[r] = vRows[r].Plus(LoraAdapter.Delta(xr, l.VA, l.VB, l.Scale));
                }
            }
            q = cat(qRows, 0);
            v = cat(vRows, 0);
        }
        q = RotaryEmbedding.Apply(q.view(b, 1, _heads, _headDim).transpose(1, 2), cos, sin);
        k = RotaryEmbedding.Apply(k.view(b, 1, _kvHeads, _headDim).transpose(1, 2), cos, sin);
        v = v.view(b, 1, _kvHeads, _headDim).transpose(1, 2);
        var outputs = new Tensor[b];
        for (int r = 0; r < b; r++)
        {
            var (keys, values) = caches[r].Append(k.narrow(0, r, 1), v.narrow(0, r, 1));
            outputs[r] = AttendOnePosition(q.narrow(0, r, 1), keys, values);
        }
        var y = cat(outputs, 0).transpose(1, 2).reshape(b, 1, _heads * _headDim);
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

    /// <summary>
    /// One query position (q [B, H, 1, hd]) against all cached keys and values ([B, kvH, L, hd]): the query heads that
    /// share a KV head go in as that head's positions (no mask: one new token sees everything before it), so the cache
    /// is read in place rather than copied once per query head, as repeat_interleave would on every decode step.
    /// </summary>
    Tensor AttendOnePosition(Tensor q, Tensor keys, Tensor values)
    {
        long b = q.shape[0];
        int group = _heads / _kvHeads;
        if (group == 1) return F.scaled_dot_product_attention(q, keys, values, null, 0.0, false);
        var grouped = q.reshape(b, _kvHeads, group, _headDim);
        return F.scaled_dot_product_attention(grouped, keys, values, null, 0.0, false).reshape(b, _heads, 1, _headDim);
    }
}
