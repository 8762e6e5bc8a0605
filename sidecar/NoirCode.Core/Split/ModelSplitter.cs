using NoirCode.Core.Model;
using NoirCode.Core.Util;
using NoirCode.Core.Weights;

namespace NoirCode.Core.Split;

/// <summary>
/// Cuts a Hugging Face model folder into a client folder (embedding, first k and last j blocks, norm, head,
/// tokenizer) and a cloud folder (the middle blocks only), each a valid HF-layout folder with a manifest.
/// Tensors are copied byte for byte in their stored dtype.
/// </summary>
public static class ModelSplitter
{
    static readonly string[] ClientSideFiles =
        { "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "LICENSE", "README.md" };

    public sealed record Result(SplitSpec Split, int ClientTensors, int CloudTensors, long ClientBytes, long CloudBytes, string Fingerprint);

    public static Result Split(string modelFolder, string clientOut, string cloudOut, SplitSpec requested, IProgressSink? progress = null)
    {
        progress ??= NullProgress.Instance;
        var config = ModelConfig.Load(modelFolder);
        if (ShardManifest.TryLoad(modelFolder) is { } m)
            throw new ModelLoadException(Path.Combine(modelFolder, ShardManifest.FileName), $"already a {m.Role} shard; split the original model");
        var spec = requested.ClipFor(config.NumLayers);
        var weights = WeightFolder.Open(modelFolder);
        foreach (var (name, _) in ModelLayout.AllTensors(config)) weights.Entry(name); // fail before writing anything
        foreach (var dir in new[] { clientOut, cloudOut })
            if (Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir).Any())
                throw new IOException($"output folder {dir} is not empty; choose a new folder");
        if (Path.GetFullPath(clientOut) == Path.GetFullPath(cloudOut)) throw new IOException("the client and cloud folders must differ");

        progress.Report("fingerprinting model", 0, 1);
        string fingerprint = ModelFingerprint.Compute(config, weights);
        progress.Done("fingerprinting model");

        var clientNames = ModelLayout.Tensors(config, spec.ClientLayers(config.NumLayers), embedding: true, head: true).Select(t => t.Name).ToList();
        var cloudNames = ModelLayout.Tensors(config, spec.CloudLayers(config.NumLayers), embedding: false, head: false).Select(t => t.Name).ToList();
        int total = clientNames.Count + cloudNames.Count, done = 0;
        List<TensorData> Copy(IEnumerable<string> names) => names.Select(n =>
        {
            var e = weights.Entry(n);
            return TensorData.Lazy(n, e.Dtype, e.Shape, () => { var b = weights.ReadRaw(n); progress.Report("writing shards", ++done, total); return b; });
        }).ToList();

        var clientTensors = Copy(clientNames);
        var cloudTensors = Copy(cloudNames);
        WeightFolderWriter.Write(clientOut, clientTensors);
        WeightFolderWriter.Write(cloudOut, cloudTensors);
        progress.Done("writing shards");

        foreach (var f in ClientSideFiles)
            if (File.Exists(Path.Combine(modelFolder, f))) File.Copy(Path.Combine(modelFolder, f), Path.Combine(clientOut, f));
        // The cloud needs the shape of the blocks, nothing about the vocabulary's contents.
        File.Copy(Path.Combine(modelFolder, "config.json"), Path.Combine(cloudOut, "config.json"));
        new ShardManifest(ShardManifest.ClientRole, spec, config.NumLayers, fingerprint).Save(clientOut);
        new ShardManifest(ShardManifest.CloudRole, spec, config.NumLayers, fingerprint).Save(cloudOut);
        return new Result(spec, clientTensors.Count, cloudTensors.Count, clientTensors.Sum(t => t.ByteCount), cloudTensors.Sum(t => t.ByteCount), fingerprint);
    }
}
