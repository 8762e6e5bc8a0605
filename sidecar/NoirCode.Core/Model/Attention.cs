using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace NoirCode.Core.Model;

/// <summary>
/// Grouped-query causal self-attention with rotary positions and an optional KV cache. One projection path
/// (<see cref="Project"/>) serves a sequence (<see cref="Forward"/>) and the endpoint's batched decode of many
/// sessions (<see cref="ForwardDecodeBatch"/>, whose attention over pooled caches is <see cref="BatchedDecodeAttention"/>).
/// </summary>
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
        long t = x.shape[1];
        var (q, k, v) = Project(x, cos, sin, lora is null ? NoAdapter : new[] { lora }); // [B, H, T, hd], [B, kvH, T, hd] ×2
        bool firstChunk = cache is null || cache.Length == 0;
        if (cache is not null) (k, v) = cache.Append(k, v);                       // [B, kvH, past+T, hd]
        if (t == 1 && mask is null) return Output(AttendOnePosition(q, k, v)).MoveToOuterDisposeScope();
        if (_kvHeads != _heads)
        {
            k = k.repeat_interleave(_heads / _kvHeads, 1);
            v = v.repeat_interleave(_heads / _kvHeads, 1);
        }
        bool causal = mask is null && t > 1 && firstChunk;
        return Output(F.scaled_dot_product_attention(q, k, v, mask, 0.0, causal)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The endpoint's decode step for B sessions at once: x [B, 1, D], each row at its own position (in cos/sin,
    /// [B, 1, 1, hd]) with its own adapter, its cache a slot of one <see cref="KvPool"/>. The projections run batched
    /// (the weights are read once for all rows); attention is <see cref="BatchedDecodeAttention"/>.
    /// </summary>
    internal Tensor ForwardDecodeBatch(Tensor x, Tensor cos, Tensor sin, PooledDecodeBatch batch, int layer, IReadOnlyList<LoraLayer?> loras)
    {
        using var scope = NewDisposeScope();
        var (q, k, v) = Project(x, cos, sin, loras);
        return Output(BatchedDecodeAttention.Attend(q, k, v, batch, layer)).MoveToOuterDisposeScope();
    }

    static readonly LoraLayer?[] NoAdapter = { null };

    /// <summary>
    /// The one projection path: q, k and v of x [B, T, D], the adapters' low-rank updates added to q and v, rotated.
    /// </summary>
    /// <param name="loras">one adapter (or null) for every row, or one per row</param>
    /// <returns>q [B, H, T, hd]; k and v [B, kvH, T, hd]</returns>
    (Tensor Q, Tensor K, Tensor V) Project(Tensor x, Tensor cos, Tensor sin, IReadOnlyList<LoraLayer?> loras)
    {
        long b = x.shape[0], t = x.shape[1];
        var q = F.linear(x, q_proj, q_bias);                                      // [B, T, H·hd]
        var k = F.linear(x, k_proj, k_bias);                                      // [B, T, kvH·hd]
        var v = F.linear(x, v_proj, v_bias);
        (q, v) = AddAdapters(x, q, v, loras);
        q = RotaryEmbedding.Apply(q.view(b, t, _heads, _headDim).transpose(1, 2), cos, sin);
        k = RotaryEmbedding.Apply(k.view(b, t, _kvHeads, _headDim).transpose(1, 2), cos, sin);
        v = v.view(b, t, _kvHeads, _headDim).transpose(1, 2);
        return (q, k, v);
    }

    /// <summary>q += s·B_q(A_q x), v += s·B_v(A_v x): for all rows at once when they share an adapter, else once per
    /// adapter over its rows (index_select, then index_add), never once per row.</summary>
    static (Tensor Q, Tensor V) AddAdapters(Tensor x, Tensor q, Tensor v, IReadOnlyList<LoraLayer?> loras)
    {
        if (loras.All(l => l is null)) return (q, v);
        if (loras.Count == 1 || (loras[0] is { } only && loras.All(l => ReferenceEquals(l, only))))
        {
            var l = loras[0]!;
            return (q.Plus(LoraAdapter.Delta(x, l.QA, l.QB, l.Scale)), v.Plus(LoraAdapter.Delta(x, l.VA, l.VB, l.Scale)));
        }
        if (loras.Count != x.shape[0]) throw new ArgumentException($"{loras.Count} adapters for {x.shape[0]} rows");
        using var one = 1.ToScalar(); // explicit and kept alive through the calls (see RmsNorm)
        foreach (var byAdapter in Enumerable.Range(0, loras.Count).Where(r => loras[r] is not null).GroupBy(r => loras[r]!, ReferenceEqualityComparer.Instance))
        {
            var l = (LoraLayer)byAdapter.Key!;
            var rows = tensor(byAdapter.Select(r => (long)r).ToArray(), ScalarType.Int64, x.device);
            var xr = x.index_select(0, rows);
            q = q.index_add(0, rows, LoraAdapter.Delta(xr, l.QA, l.QB, l.Scale), one);
            v = v.index_add(0, rows, LoraAdapter.Delta(xr, l.VA, l.VB, l.Scale), one);
        }
        return (q, v);
    }

    /// <summary>y [B, H, T, hd] → [B, T, H·hd] → the output projection.</summary>
    Tensor Output(Tensor y)
    {
        long b = y.shape[0], t = y.shape[2];
        return F.linear(y.transpose(1, 2).reshape(b, t, _heads * _headDim), o_proj, o_bias);
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
