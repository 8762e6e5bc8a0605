using NoirCode.Core.Tokenization;
using NoirCode.Core.Util;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using NoirCode.Core.Split;

namespace NoirCode.Core.Model;

/// <summary>The whole model on one machine: embedding, every block, final norm and head.</summary>
public sealed class CausalLM : nn.Module
{
    public ModelConfig Config { get; }
    public CodeTokenizer Tokenizer { get; }
    readonly TokenEmbedding embed_tokens;
    readonly BlockStack layers;
    readonly OutputHead head;

    public TokenEmbedding Embedding => embed_tokens;
    public BlockStack Blocks => layers;
    public OutputHead Head => head;

    CausalLM(ModelConfig config, CodeTokenizer tokenizer, TokenEmbedding embedding, BlockStack blocks, OutputHead head) : base(nameof(CausalLM))
    {
        Config = config; Tokenizer = tokenizer; embed_tokens = embedding; layers = blocks; this.head = head;
        RegisterComponents();
    }

    public static CausalLM Load(string folder, LoadOptions? options = null)
    {
        options ??= new LoadOptions();
        var config = ModelConfig.Load(folder);
        if (ShardManifest.TryLoad(folder) is { } m)
            throw new ModelLoadException(Path.Combine(folder, ShardManifest.FileName), $"this folder holds only the {m.Role} shard of a split model, not the whole model");
        var tokenizer = LoadTokenizer(folder, config);
        var parts = ShardLoader.Load(folder, config, options, new[] { new BlockRun(0, config.NumLayers) }, ends: true);
        return new CausalLM(config, tokenizer, parts.Embedding!, parts.Stacks[0], parts.Head!);
    }

    public static CodeTokenizer LoadTokenizer(string folder, ModelConfig config)
    {
        var tokenizer = CodeTokenizer.Load(folder, config.EosTokenIds);
        if (tokenizer.IdCount > config.VocabSize)
            throw new ModelLoadException(Path.Combine(folder, "tokenizer.json"),
                $"has token ids up to {tokenizer.IdCount - 1} but config.json's vocab_size is {config.VocabSize}");
        return tokenizer;
    }

    /// <summary>ids [B, T] at positions [T] → logits [B, T', V], where T' is 1 when <paramref name="lastOnly"/>.</summary>
    public Tensor Forward(Tensor ids, Tensor positions, KvCache? cache = null, bool lastOnly = true)
    {
        using var scope = NewDisposeScope();
        var h = layers.Forward(embed_tokens.forward(ids), positions, cache);
        if (lastOnly) h = h.narrow(1, h.shape[1] - 1, 1);
        return head.forward(h).MoveToOuterDisposeScope();
    }

    public IEnumerable<(string Name, Parameter P)> NamedWeights() =>
        new[] { (ModelLayout.Embedding, embed_tokens.Weight) }.Concat(layers.NamedWeights()).Concat(head.NamedWeights());
}
