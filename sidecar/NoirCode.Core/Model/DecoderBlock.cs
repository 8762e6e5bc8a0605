using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NoirCode.Core.Model;

/// <summary>One pre-norm transformer block: x + attn(norm(x)), then + mlp(norm(x)).</summary>
public sealed class DecoderBlock : nn.Module
{
    public int Index { get; }
    readonly RmsNorm input_layernorm, post_attention_layernorm;
    readonly Attention self_attn;
    readonly SwiGluMlp mlp;

    /// <param name="weight">looks up a tensor by its Hugging Face name</param>
    public DecoderBlock(ModelConfig c, int index, Func<string, Tensor> weight) : base($"layer{index}")
    {
        Index = index;
        var names = ModelLayout.BlockTensors(c, index).Select(t => t.Name).ToHashSet();
        Parameter P(string name) => new(weight(name));
        Parameter? Opt(string name) => names.Contains(name) ? P(name) : null;
        input_layernorm = new RmsNorm(weight(ModelLayout.Layer(index, "input_layernorm.weight")), c.RmsNormEps);
        post_attention_layernorm = new RmsNorm(weight(ModelLayout.Layer(index, "post_attention_layernorm.weight")), c.RmsNormEps);
        self_attn = new Attention(c, s => P(ModelLayout.Layer(index, "self_attn." + s)), s => Opt(ModelLayout.Layer(index, "self_attn." + s)));
        mlp = new SwiGluMlp(s => P(ModelLayout.Layer(index, "mlp." + s)), s => Opt(ModelLayout.Layer(index, "mlp." + s)));
        RegisterComponents();
    }

    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, LayerKvCache? cache, Tensor? mask, LoraLayer? lora = null)
    {
        using var scope = NewDisposeScope();
        var h = x.Plus(self_attn.Forward(input_layernorm.forward(x), cos, sin, cache, mask, lora));
        return h.Plus(mlp.forward(post_attention_layernorm.forward(h))).MoveToOuterDisposeScope();
    }

    /// <summary>One decode step of several sessions with pooled caches, each with its own adapter (see <see cref="Attention.ForwardDecodeBatch"/>).</summary>
    internal Tensor ForwardDecodeBatch(Tensor x, Tensor cos, Tensor sin, PooledDecodeBatch batch, int layer, IReadOnlyList<LoraLayer?> loras)
    {
        using var scope = NewDisposeScope();
        var h = x.Plus(self_attn.ForwardDecodeBatch(input_layernorm.forward(x), cos, sin, batch, layer, loras));
        return h.Plus(mlp.forward(post_attention_layernorm.forward(h))).MoveToOuterDisposeScope();
    }

    /// <summary>Parameters under their Hugging Face names, for saving and for optimisers.</summary>
    public IEnumerable<(string Name, Parameter P)> NamedWeights()
    {
        yield return (ModelLayout.Layer(Index, "input_layernorm.weight"), input_layernorm.Weight);
        foreach (var (s, p) in self_attn.Named()) yield return (ModelLayout.Layer(Index, "self_attn." + s), p);
        yield return (ModelLayout.Layer(Index, "post_attention_layernorm.weight"), post_attention_layernorm.Weight);
        foreach (var (s, p) in mlp.Named()) yield return (ModelLayout.Layer(Index, "mlp." + s), p);
    }
}
