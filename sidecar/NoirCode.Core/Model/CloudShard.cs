using NoirCode.Core.Util;
using NoirCode.Core.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace NoirCode.Core.Model;

/// <summary>The middle blocks, which the remote endpoint runs. It has no embedding, no head and no tokenizer.</summary>
public sealed class CloudShard : nn.Module
{
    public ModelConfig Config { get; }
    public SplitSpec Split { get; }
    readonly BlockStack middle;
    public BlockStack Middle => middle;

    CloudShard(ModelConfig config, SplitSpec split, BlockStack middle) : base(nameof(CloudShard))
    {
        Config = config; Split = split; this.middle = middle;
        RegisterComponents();
    }

    public static CloudShard Load(string folder, SplitSpec? split = null, LoadOptions? options = null)
    {
        options ??= new LoadOptions();
        var config = ModelConfig.Load(folder);
        var spec = ShardManifest.SplitFor(folder, config, ShardManifest.CloudRole, split);
        int count = ModelLayout.Tensors(config, spec.CloudLayers(config.NumLayers), embedding: false, head: false).Count();
        var source = new WeightSource(WeightFolder.Open(folder), config, options, count);
        using var _ = no_grad();
        var middle = new BlockStack(config, spec.MiddleStart, spec.MiddleCount(config.NumLayers), source.Get);
        options.Progress.Done("loading weights");
        return new CloudShard(config, spec, middle);
    }
}
