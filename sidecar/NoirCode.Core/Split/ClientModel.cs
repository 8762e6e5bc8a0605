using NoirCode.Core.Tokenization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using NoirCode.Core.Model;

namespace NoirCode.Core.Split;

/// <summary>
/// What the developer's machine holds of a split model: the embedding and the first k blocks (the "encoder"),
/// the last j blocks, final norm and head (the "decoder"), and the tokenizer. Never the middle blocks.
/// </summary>
public sealed class ClientModel : nn.Module
{
    public ModelConfig Config { get; }
    public CodeTokenizer Tokenizer { get; }
    public SplitSpec Split { get; }
    readonly TokenEmbedding embed_tokens;
    readonly BlockStack encoder, decoder;
    readonly OutputHead head;

    public TokenEmbedding Embedding => embed_tokens;
    public BlockStack Encoder => encoder;
    public BlockStack Decoder => decoder;
    public OutputHead Head => head;

    ClientModel(ModelConfig config, CodeTokenizer tokenizer, SplitSpec split, TokenEmbedding embedding, BlockStack encoder, BlockStack decoder, OutputHead head)
        : base(nameof(ClientModel))
    {
        Config = config; Tokenizer = tokenizer; Split = split;
        embed_tokens = embedding; this.encoder = encoder; this.decoder = decoder; this.head = head;
        RegisterComponents();
    }

    /// <summary>
    /// Loads the client side from a folder written by <c>noir split</c> (its manifest gives the split) or from
    /// a whole-model folder (then <paramref name="split"/>, clipped to the model, says where to cut).
    /// </summary>
    /// <param name="untieHead">give the head its own copy of a tied embedding, so that replacing the input
    /// embedding (INDVocab) leaves the output head as it was</param>
    public static ClientModel Load(string folder, SplitSpec? split = null, LoadOptions? options = null, bool untieHead = false)
    {
        options ??= new LoadOptions();
        var config = ModelConfig.Load(folder);
        var spec = ShardManifest.SplitFor(folder, config, ShardManifest.ClientRole, split);
        var tokenizer = CausalLM.LoadTokenizer(folder, config);
        var runs = new[] { new BlockRun(0, spec.EncoderBlocks), new BlockRun(spec.TailStart(config.NumLayers), spec.DecoderBlocks) };
        var parts = ShardLoader.Load(folder, config, options, runs, ends: true, untieHead);
        return new ClientModel(config, tokenizer, spec, parts.Embedding!, parts.Stacks[0], parts.Stacks[1], parts.Head!);
    }

    /// <summary>Embedding + the first blocks: ids [B, T] → hidden [B, T, D], the tensor that goes to the cloud.</summary>
    public Tensor FirstBlocks(Tensor ids, Tensor positions, KvCache? cache)
    {
        using var scope = NewDisposeScope();
        return encoder.Forward(embed_tokens.forward(ids), positions, cache).MoveToOuterDisposeScope();
    }

    /// <summary>The last blocks + norm + head on the hidden states that came back from the cloud: hidden [B, T, D] →
    /// logits [B, T or 1, V]. (Not named Decode: decoding is the autoregressive loop, Generation/TextGenerator.)</summary>
    public Tensor LastBlocksAndHead(Tensor hidden, Tensor positions, KvCache? cache, bool lastOnly = true)
    {
        using var scope = NewDisposeScope();
        var h = decoder.Forward(hidden, positions, cache);
        if (lastOnly) h = h.narrow(1, h.shape[1] - 1, 1);
        return head.forward(h).MoveToOuterDisposeScope();
    }

    public IEnumerable<(string Name, Parameter P)> NamedWeights() =>
        new[] { (ModelLayout.Embedding, embed_tokens.Weight) }.Concat(encoder.NamedWeights()).Concat(decoder.NamedWeights()).Concat(head.NamedWeights());
}
