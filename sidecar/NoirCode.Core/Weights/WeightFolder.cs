using System.Text.Json;
using System.Text.Json.Nodes;
using NoirCode.Core.Util;

namespace NoirCode.Core.Weights;

/// <summary>
/// The tensors of a Hugging Face model folder: a single model.safetensors, or shards listed by
/// model.safetensors.index.json. Looks tensors up by their Hugging Face names.
/// </summary>
public sealed class WeightFolder
{
    public const string SingleFile = "model.safetensors";
    public const string IndexFile = "model.safetensors.index.json";

    public string Folder { get; }
    readonly Dictionary<string, (TensorEntry Entry, SafetensorsFile File)> _tensors = new();

    public IEnumerable<TensorEntry> Entries => _tensors.Values.Select(v => v.Entry);
    public IEnumerable<string> Names => _tensors.Keys;

    WeightFolder(string folder) { Folder = folder; }

    public static WeightFolder Open(string folder)
    {
        var result = new WeightFolder(folder);
        string single = Path.Combine(folder, SingleFile), index = Path.Combine(folder, IndexFile);
        IEnumerable<string> files;
        if (File.Exists(index))
        {
            JsonObject json;
            try { json = JsonNode.Parse(File.ReadAllText(index)) as JsonObject ?? throw new JsonException("not an object"); }
            catch (JsonException e) { throw new ModelLoadException(index, $"not valid JSON: {e.Message}"); }
            if (json["weight_map"] is not JsonObject map) throw new ModelLoadException(index, "has no 'weight_map'");
            var byFile = map.GroupBy(kv => kv.Value!.GetValue<string>()).ToList();
            foreach (var group in byFile)
            {
                string shardPath = Path.Combine(folder, group.Key);
                if (!File.Exists(shardPath)) throw new ModelLoadException(shardPath, $"missing: listed in {IndexFile}");
                var shard = SafetensorsFile.Open(shardPath);
                foreach (var kv in group)
                {
                    if (!shard.Tensors.TryGetValue(kv.Key, out var entry))
                        throw new ModelLoadException(shardPath, $"tensor '{kv.Key}' is listed in {IndexFile} but not in this file");
                    result._tensors[kv.Key] = (entry, shard);
                }
            }
            return result;
        }
        if (File.Exists(single)) files = new[] { single };
        else
        {
            files = Directory.Exists(folder) ? Directory.GetFiles(folder, "*.safetensors").OrderBy(f => f, StringComparer.Ordinal).ToArray() : Array.Empty<string>();
            if (!files.Any()) throw new ModelLoadException(single, $"missing: the folder has neither {SingleFile} nor {IndexFile}");
        }
        foreach (var file in files)
        {
            var st = SafetensorsFile.Open(file);
            foreach (var (name, entry) in st.Tensors) result._tensors[name] = (entry, st);
        }
        return result;
    }

    public bool Contains(string name) => _tensors.ContainsKey(name);

    public TensorEntry Entry(string name) =>
        _tensors.TryGetValue(name, out var t) ? t.Entry
            : throw new ModelLoadException(Path.Combine(Folder, File.Exists(Path.Combine(Folder, IndexFile)) ? IndexFile : SingleFile), $"tensor '{name}' is missing");

    TensorEntry EntryWithShape(string name, long[] expectedShape)
    {
        var entry = Entry(name);
        if (!entry.Shape.SequenceEqual(expectedShape))
            throw new ModelLoadException(entry.FilePath,
                $"tensor '{name}' has shape [{string.Join(", ", entry.Shape)}] but config.json implies [{string.Join(", ", expectedShape)}]");
        return entry;
    }

    /// <summary>Reads a tensor's bytes after checking its shape against what the config implies.</summary>
    public (TensorEntry Entry, byte[] Data) Read(string name, long[] expectedShape)
    {
        var entry = EntryWithShape(name, expectedShape);
        if (entry.Dtype is not ("F32" or "F16" or "BF16"))
            throw new ModelLoadException(entry.FilePath, $"tensor '{name}' has dtype {entry.Dtype}; weights must be F32, F16 or BF16");
        return (entry, _tensors[name].File.ReadBytes(entry));
    }

    /// <summary>A float tensor as float32 after the same shape check as <see cref="Read"/>; works beyond 2 GB.</summary>
    public (TensorEntry Entry, float[] Values) ReadFloats(string name, long[] expectedShape)
    {
        var entry = EntryWithShape(name, expectedShape);
        return (entry, _tensors[name].File.ReadFloats(entry));
    }

    public byte[] ReadRaw(string name) => _tensors.TryGetValue(name, out var t) ? t.File.ReadBytes(t.Entry) : throw new KeyNotFoundException(name);
}
