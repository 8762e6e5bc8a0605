using NoirCode.Core.Weights;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NoirCode.Core.Model;

/// <summary>A run of consecutive blocks [First, First + Count) to load as one <see cref="BlockStack"/>.</summary>
internal readonly record struct BlockRun(int First, int Count);

/// <summary>What <see cref="ShardLoader"/> read: the ends (embedding and head) when asked for, and one stack per run.</summary>
internal sealed record LoadedParts(TokenEmbedding? Embedding, IReadOnlyList<BlockStack> Stacks, OutputHead? Head);

/// <summary>
/// The one load sequence behind the whole model, the client shard and the cloud shard: every tensor checked against
/// the shape the config implies, read in the compute dtype without autograd, progress reported per tensor. The three
/// differ only in which parts they hold: the whole model one run of every block and both ends, the client two runs
/// (first and last blocks) and both ends, the cloud one run (the middle) and no ends.
/// </summary>
internal static class ShardLoader
{
    /// <param name="ends">load the embedding, final norm and head (the client's and the whole model's, never the cloud's)</param>
    /// <param name="untieHead">give the head its own copy of a tied embedding, so that replacing the input
    /// embedding (INDVocab) leaves the output head as it was</param>
    public static LoadedParts Load(string folder, ModelConfig config, LoadOptions options, IReadOnlyList<BlockRun> runs, bool ends, bool untieHead = false)
    {
        var layers = runs.SelectMany(r => Enumerable.Range(r.First, r.Count));
        int count = ModelLayout.Tensors(config, layers, embedding: ends, head: ends).Count();
        var source = new WeightSource(WeightFolder.Open(folder), config, options, count);
        using var _ = no_grad();
        // Read in file order of the forward pass: embedding, blocks, head (progress counts up once).
        var embedding = ends ? new TokenEmbedding(source.Get(ModelLayout.Embedding)) : null;
        var stacks = runs.Select(r => new BlockStack(config, r.First, r.Count, source.Get)).ToArray();
        var head = embedding != null ? Head(config, source, embedding, untieHead) : null;
        options.Progress.Done("loading weights");
        return new LoadedParts(embedding, stacks, head);
    }

    static OutputHead Head(ModelConfig config, WeightSource source, TokenEmbedding embedding, bool untie)
    {
        var norm = source.Get(ModelLayout.FinalNorm);
        if (!config.TieWordEmbeddings) return new OutputHead(config, norm, new Parameter(source.Get(ModelLayout.LmHead)), tied: false);
        return untie ? new OutputHead(config, norm, new Parameter(embedding.Weight.detach().clone()), tied: false)
                     : new OutputHead(config, norm, embedding.Weight, tied: true);
    }
}
