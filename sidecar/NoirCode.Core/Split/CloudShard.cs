using TorchSharp;
using static TorchSharp.torch;
using NoirCode.Core.Model;

namespace NoirCode.Core.Split;

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
        var parts = ShardLoader.Load(folder, config, options, new[] { new BlockRun(spec.MiddleStart, spec.MiddleCount(config.NumLayers)) }, ends: false);
        return new CloudShard(config, spec, parts.Stacks[0]);
    }
}
