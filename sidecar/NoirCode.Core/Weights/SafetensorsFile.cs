using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NoirCode.Core.Util;

namespace NoirCode.Core.Weights;

/// <summary>Where one tensor lies in a safetensors file.</summary>
public sealed record TensorEntry(string Name, string Dtype, long[] Shape, long Begin, long End, string FilePath)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>
/// Reader for the safetensors format: an 8-byte little-endian header length, a JSON header mapping names to
/// dtype, shape and data offsets, then the raw little-endian data. Every offset is checked against the file,
/// so a truncated or corrupt file is reported by name instead of failing deep inside a copy.
/// </summary>
public sealed class SafetensorsFile
{
    public static readonly IReadOnlyDictionary<string, int> DtypeSizes = new Dictionary<string, int>
    {
        ["F64"] = 8, ["F32"] = 4, ["F16"] = 2, ["BF16"] = 2, ["I64"] = 8, ["I32"] = 4, ["I16"] = 2, ["I8"] = 1, ["U8"] = 1, ["BOOL"] = 1,
    };

    const long MaxHeaderBytes = 100_000_000;

    public string Path { get; }
    public IReadOnlyDictionary<string, TensorEntry> Tensors { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }
    readonly long _dataStart;

    SafetensorsFile(string path, Dictionary<string, TensorEntry> tensors, Dictionary<string, string> metadata, long dataStart)
    {
        Path = path; Tensors = tensors; Metadata = metadata; _dataStart = dataStart;
    }

    public static SafetensorsFile Open(string path)
    {
        if (!File.Exists(path)) throw new ModelLoadException(path, "missing");
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        long fileLength = fs.Length;
        if (fileLength < 8) throw new ModelLoadException(path, $"truncated: {fileLength} bytes, too short for a safetensors header");
        Span<byte> lenBytes = stackalloc byte[8];
        fs.ReadExactly(lenBytes);
        long headerLength = BitConverter.ToInt64(lenBytes);
        if (headerLength <= 0 || headerLength > MaxHeaderBytes || 8 + headerLength > fileLength)
            throw new ModelLoadException(path, $"corrupt or truncated: header length {headerLength} does not fit a {fileLength}-byte file");
        var headerBytes = new byte[headerLength];
        fs.ReadExactly(headerBytes);
        JsonObject header;
        try { header = JsonNode.Parse(headerBytes) as JsonObject ?? throw new JsonException("header is not a JSON object"); }
        catch (JsonException e) { throw new ModelLoadException(path, $"corrupt header: {e.Message}"); }

        long dataStart = 8 + headerLength, dataLength = fileLength - dataStart;
        var tensors = new Dictionary<string, TensorEntry>();
        var metadata = new Dictionary<string, string>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__")
            {
                if (node is JsonObject m) foreach (var (k, v) in m) metadata[k] = v?.ToString() ?? "";
                continue;
            }
            try
            {
                var o = (JsonObject)node!;
                string dtype = o["dtype"]!.GetValue<string>();
                long[] shape = o["shape"]!.AsArray().Select(x => x!.GetValue<long>()).ToArray();
                var offsets = o["data_offsets"]!.AsArray();
                long begin = offsets[0]!.GetValue<long>(), end = offsets[1]!.GetValue<long>();
                if (!DtypeSizes.TryGetValue(dtype, out int size))
                    throw new ModelLoadException(path, $"tensor '{name}' has unsupported dtype {dtype}");
                var entry = new TensorEntry(name, dtype, shape, begin, end, path);
                if (shape.Any(d => d < 0) || begin < 0 || end < begin || end - begin != entry.ElementCount * size)
                    throw new ModelLoadException(path, $"corrupt header: tensor '{name}' offsets [{begin}, {end}) do not match shape [{string.Join(", ", shape)}] of {dtype}");
                if (end > dataLength)
                    throw new ModelLoadException(path, $"truncated: tensor '{name}' ends at byte {end} of the data but the file holds only {dataLength}");
                tensors[name] = entry;
            }
            catch (Exception e) when (e is InvalidOperationException or NullReferenceException or InvalidCastException or FormatException or ArgumentException)
            {
                throw new ModelLoadException(path, $"corrupt header entry for tensor '{name}'");
            }
        }
        return new SafetensorsFile(path, tensors, metadata, dataStart);
    }

    /// <summary>The raw little-endian bytes of one tensor.</summary>
    public byte[] ReadBytes(TensorEntry entry)
    {
        long length = entry.End - entry.Begin;
        if (length > Array.MaxLength) throw new ModelLoadException(Path, $"tensor '{entry.Name}' is larger than 2 GB, which this reader does not support");
        var data = new byte[length];
        using var fs = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        fs.Seek(_dataStart + entry.Begin, SeekOrigin.Begin);
        try { fs.ReadExactly(data); }
        catch (EndOfStreamException) { throw new ModelLoadException(Path, $"truncated while reading tensor '{entry.Name}'"); }
        return data;
    }

    /// <summary>A floating-point tensor as float32, read in chunks (works beyond 2 GB).</summary>
    public float[] ReadFloats(TensorEntry entry)
    {
        if (entry.Dtype is not ("F32" or "BF16" or "F16")) throw new ModelLoadException(Path, $"tensor '{entry.Name}' is {entry.Dtype}, not a float type");
        var result = new float[entry.ElementCount];
        using var fs = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        fs.Seek(_dataStart + entry.Begin, SeekOrigin.Begin);
        try { FloatCodec.Read(fs, result, entry.Dtype); }
        catch (EndOfStreamException) { throw new ModelLoadException(Path, $"truncated while reading tensor '{entry.Name}'"); }
        return result;
    }

    /// <summary>
    /// Writes tensors (names sorted, data 8-byte aligned). Data is pulled one tensor at a time, so a shard far
    /// larger than memory can be written. The file appears whole or not at all (written aside, then renamed).
    /// </summary>
    /// <param name="mode">Unix permissions the file is created with (e.g. 0600 for secrets); default: the umask's.</param>
    public static void Write(string path, IEnumerable<TensorData> tensors, IReadOnlyDictionary<string, string>? metadata = null, UnixFileMode? mode = null)
    {
        var list = tensors.OrderBy(t => t.Name, StringComparer.Ordinal).ToList();
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
            header["__metadata__"] = new JsonObject(metadata.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value))));
        long offset = 0;
        foreach (var t in list)
        {
            header[t.Name] = new JsonObject
            {
                ["dtype"] = t.Dtype,
                ["shape"] = new JsonArray(t.Shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + t.ByteCount),
            };
            offset += t.ByteCount;
        }
        byte[] headerBytes = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (headerBytes.Length + 7) / 8 * 8;
        string tmp = path + ".tmp";
        File.Delete(tmp); // a leftover from a crash would keep its old permissions
        var fileOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (mode is { } m && !OperatingSystem.IsWindows()) fileOptions.UnixCreateMode = m;
        using (var fs = new FileStream(tmp, fileOptions))
        {
            fs.Write(BitConverter.GetBytes((long)padded));
            fs.Write(headerBytes);
            for (int i = headerBytes.Length; i < padded; i++) fs.WriteByte((byte)' ');
            foreach (var t in list)
            {
                long before = fs.Position;
                t.WriteTo(fs);
                if (fs.Position - before != t.ByteCount) throw new ArgumentException($"tensor {t.Name}: {fs.Position - before} bytes do not match its shape and dtype");
            }
        }
        File.Move(tmp, path, overwrite: true);
    }
}

/// <summary>
/// A tensor to be written: its name, dtype, shape, and a writer that streams its bytes when the file needs
/// them (so tensors over 2 GB, beyond any byte[], can be written).
/// </summary>
public sealed record TensorData(string Name, string Dtype, long[] Shape, Action<Stream> WriteTo)
{
    public long ByteCount => Shape.Aggregate(1L, (a, b) => a * b) * SafetensorsFile.DtypeSizes[Dtype];

    public static TensorData Of(string name, string dtype, long[] shape, byte[] data) => new(name, dtype, shape, s => s.Write(data));

    public static TensorData Lazy(string name, string dtype, long[] shape, Func<byte[]> read) => new(name, dtype, shape, s => s.Write(read()));

    /// <summary>float32 values stored as F32, BF16 (round to nearest even) or F16, converted chunk by chunk.</summary>
    public static TensorData OfFloats(string name, string dtype, long[] shape, float[] values) =>
        new(name, dtype, shape, s => FloatCodec.Write(s, values, dtype));
}
