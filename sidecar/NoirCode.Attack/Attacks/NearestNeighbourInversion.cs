using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace NoirCode.Attack.Attacks;

/// <summary>
/// Inverts each encoder output on its own by cosine nearest neighbour against a public codebook: for every
/// token, the mean of the public encoder's outputs for it over public code (centred on the public mean), or,
/// for tokens public code never shows, the public encoder's output for the token alone.
/// </summary>
public sealed class NearestNeighbourInversion : ICloudAttack
{
    readonly Tensor _codebook, _mean;

    /// <summary>[V, D], unit rows.</summary>
    public Tensor Codebook => _codebook;

    public string Name => "nn-inversion";
    public string Description => "cosine nearest neighbour of each encoder output among per-token means of the public encoder's outputs on public code";

    public NearestNeighbourInversion(AttackerKnowledge k)
    {
        using var _ = no_grad();
        int v = k.Config.VocabSize;
        _mean = k.PublicHidden.mean(new long[] { 0 }, keepdim: true);
        var labels = tensor(k.PublicLabels);
        var sums = zeros(v, k.Config.HiddenSize).index_add_(0, labels, k.PublicHidden - _mean, 1);
        var counts = zeros(v).index_add_(0, labels, ones(labels.shape[0]), 1);
        // Tokens public code never shows: the public encoder's output for the token alone at position 0.
        var alone = k.PublicClient.FirstBlocks(arange(v).unsqueeze(1), zeros(1, dtype: int64), cache: null)[.., 0] - _mean;
        var seen = (counts > 0).unsqueeze(1);
        _codebook = F.normalize(where(seen, sums / counts.clamp_min(1).unsqueeze(1), alone), dim: 1);
    }

    /// <summary>Cosine scores of each row of <paramref name="hidden"/> [T, D] against every token, [T, V].</summary>
    public Tensor Scores(Tensor hidden) => F.normalize(hidden - _mean, dim: 1).matmul(_codebook.t());

    public IReadOnlyList<int[]> Reconstruct(IReadOnlyList<Tensor> views)
    {
        using var _ = no_grad();
        return views.Select(h =>
        {
            using var scope = NewDisposeScope();
            return Scores(h).argmax(1).data<long>().Select(x => (int)x).ToArray();
        }).ToList();
    }
}
