using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Core.Weights;
using NoirCode.Privacy;
using NoirCode.Privacy.Keys;

namespace NoirCode.STuning;

/// <summary>
/// Moves a tuned client shard from one key set to another: head row π_new(t) = old head row π_old(t) for every token
/// t (exact for LTokenizer), the encoder and decoder blocks kept as the warm start, the public embedding (keys replace
/// it when loaded), bound to the new keys with its tuning count at 0, since their INDVocab tables are a randomisation
/// the decoder has not seen (the window it was tuned on is kept). Used by key rotation and by <c>noir tune rekey</c>.
/// </summary>
public static class TunedShardRekey
{
    public static void Write(string tunedFolder, string outFolder, LTokenizer oldPermutation, PrivacyKeys keys, string adapterId)
    {
        var config = ModelConfig.Load(tunedFolder);
        var manifest = ShardManifest.TryLoad(tunedFolder) ?? throw new InvalidOperationException($"{tunedFolder} is tuned but holds no shard manifest");
        var weights = WeightFolder.Open(tunedFolder);
        var tensors = new List<TensorData>();
        foreach (var entry in weights.Entries)
        {
            if (entry.Name == ModelLayout.Embedding) continue; // the writer adds the public one
            byte[] data = weights.ReadRaw(entry.Name);
            if (entry.Name == ModelLayout.LmHead) data = Reindex(data, entry, oldPermutation, keys.Permutation);
            tensors.Add(TensorData.Of(entry.Name, entry.Dtype, entry.Shape, data));
        }
        TunedShardWriter.Write(outFolder, tunedFolder, config, manifest.Split, manifest.ModelFingerprint, tensors, keys.Metadata, steps: 0, adapterId,
            TunedShardBinding.WindowTokens(tunedFolder));
    }

    static byte[] Reindex(byte[] head, TensorEntry entry, LTokenizer from, LTokenizer to)
    {
        int vocab = (int)entry.Shape[0];
        if (vocab != from.Count || vocab != to.Count) throw new InvalidOperationException($"the head has {vocab} rows, the keys a vocabulary of {from.Count}");
        int row = head.Length / vocab;
        var result = new byte[head.Length];
        for (int t = 0; t < vocab; t++) Buffer.BlockCopy(head, from.ToIndex(t) * row, result, to.ToIndex(t) * row, row);
        return result;
    }
}
