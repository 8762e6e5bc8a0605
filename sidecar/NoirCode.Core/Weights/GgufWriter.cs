using System.Text;

namespace NoirCode.Core.Weights;

/// <summary>
/// Writes a GGUF file (version 3, the format of llama.cpp and Ollama): a header, typed metadata, the tensors'
/// names, shapes and offsets, then their data, each aligned to 32 bytes. Tensors are streamed one at a time, so a
/// model larger than memory can be written.
/// </summary>
public sealed class GgufWriter
{
    public const int Alignment = 32;

    /// <summary>The tensor types written here (ggml_type).</summary>
    public enum TensorType : uint { F32 = 0, F16 = 1, BF16 = 30 }

    enum ValueType : uint { UInt32 = 4, Int32 = 5, Float32 = 6, Bool = 7, String = 8, Array = 9 }

    /// <summary>A tensor to write: its GGUF name, its row-major shape, and its values when the writer asks.</summary>
    public sealed record Tensor(string Name, long[] Shape, TensorType Type, Func<float[]> Values)
    {
        public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
        public long ByteCount => ElementCount * (Type == TensorType.F32 ? 4 : 2);
    }

    readonly List<(string Key, Action<BinaryWriter> Write)> _metadata = new();
    readonly List<Tensor> _tensors = new();

    public GgufWriter Add(string key, string value) => Meta(key, w => { w.Write((uint)ValueType.String); WriteString(w, value); });
    public GgufWriter Add(string key, uint value) => Meta(key, w => { w.Write((uint)ValueType.UInt32); w.Write(value); });
    public GgufWriter Add(string key, float value) => Meta(key, w => { w.Write((uint)ValueType.Float32); w.Write(value); });
    public GgufWriter Add(string key, bool value) => Meta(key, w => { w.Write((uint)ValueType.Bool); w.Write(value); });

    public GgufWriter Add(string key, IReadOnlyList<string> values) => Meta(key, w =>
    {
        w.Write((uint)ValueType.Array); w.Write((uint)ValueType.String); w.Write((ulong)values.Count);
        foreach (var v in values) WriteString(w, v);
    });

    public GgufWriter Add(string key, IReadOnlyList<int> values) => Meta(key, w =>
    {
        w.Write((uint)ValueType.Array); w.Write((uint)ValueType.Int32); w.Write((ulong)values.Count);
        foreach (var v in values) w.Write(v);
    });

    public GgufWriter Add(Tensor tensor)
    {
        if (_tensors.Any(t => t.Name == tensor.Name)) throw new ArgumentException($"tensor '{tensor.Name}' is added twice");
        _tensors.Add(tensor);
        return this;
    }

    GgufWriter Meta(string key, Action<BinaryWriter> write)
    {
        if (_metadata.Any(m => m.Key == key)) throw new ArgumentException($"metadata key '{key}' is added twice");
        _metadata.Add((key, write));
        return this;
    }

    /// <summary>Writes the file to a temporary name and renames it into place, so a failed export leaves nothing half-written.</summary>
    public void Write(string path)
    {
        string temporary = path + ".partial";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Encoding.ASCII.GetBytes("GGUF"));
            w.Write(3u);
            w.Write((ulong)_tensors.Count);
            w.Write((ulong)_metadata.Count);
            foreach (var (key, write) in _metadata) { WriteString(w, key); write(w); }
            long offset = 0;
            foreach (var t in _tensors)
            {
                WriteString(w, t.Name);
                w.Write((uint)t.Shape.Length);
                // GGUF lists dimensions fastest-varying first: the reverse of the row-major shape.
                foreach (long d in t.Shape.Reverse()) w.Write((ulong)d);
                w.Write((uint)t.Type);
                w.Write((ulong)offset);
                offset = Align(offset + t.ByteCount);
            }
            Pad(w);
            foreach (var t in _tensors)
            {
                var values = t.Values();
                if (values.LongLength != t.ElementCount) throw new InvalidDataException($"tensor '{t.Name}' has {values.LongLength} values; its shape holds {t.ElementCount}");
                w.Flush();
                FloatCodec.Write(stream, values, t.Type.ToString());
                Pad(w);
            }
        }
        File.Move(temporary, path, overwrite: true);
    }

    static long Align(long offset) => (offset + Alignment - 1) / Alignment * Alignment;

    static void Pad(BinaryWriter w)
    {
        w.Flush();
        long position = w.BaseStream.Position;
        for (long i = position; i < Align(position); i++) w.Write((byte)0);
    }

    static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }
}
