using NoirCode.Core.Model;
namespace NoirCode.Core.Split;

/// <summary>
/// Where the model is cut: the client keeps the first <see cref="EncoderBlocks"/> blocks and the last
/// <see cref="DecoderBlocks"/> blocks; the cloud runs the rest. The paper's default is 1 + 4.
/// </summary>
public sealed record SplitSpec(int EncoderBlocks, int DecoderBlocks)
{
    public static readonly SplitSpec Default = new(1, 4);

    public static SplitSpec Parse(string text)
    {
        var parts = text.Split(',');
        if (parts.Length != 2 || !int.TryParse(parts[0], out int k) || !int.TryParse(parts[1], out int j) || k < 1 || j < 1)
            throw new ArgumentException($"--split must be K,J with K, J ≥ 1 (e.g. 1,4), not '{text}'");
        return new SplitSpec(k, j);
    }

    /// <summary>Fits the split to a model of <paramref name="layers"/> blocks, keeping at least one block in the middle.</summary>
    public SplitSpec ClipFor(int layers)
    {
        if (layers < 3) throw new ArgumentException($"a model with {layers} layers cannot be split: the client needs one block on each side and the cloud at least one");
        int k = Math.Clamp(EncoderBlocks, 1, layers - 2);
        int j = Math.Clamp(DecoderBlocks, 1, layers - k - 1);
        return new SplitSpec(k, j);
    }

    public int MiddleStart => EncoderBlocks;
    public int MiddleCount(int layers) => layers - EncoderBlocks - DecoderBlocks;
    public int TailStart(int layers) => layers - DecoderBlocks;

    public IEnumerable<int> ClientLayers(int layers) =>
        Enumerable.Range(0, EncoderBlocks).Concat(Enumerable.Range(TailStart(layers), DecoderBlocks));

    public IEnumerable<int> CloudLayers(int layers) => Enumerable.Range(MiddleStart, MiddleCount(layers));

    public override string ToString() => $"{EncoderBlocks},{DecoderBlocks}";
}
