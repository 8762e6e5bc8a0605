using TorchSharp;
using static TorchSharp.torch;

namespace NoirCode.Core.Model;

/// <summary>Conversions between safetensors dtype names, raw little-endian bytes and torch tensors.</summary>
public static class TensorBytes
{
    public static ScalarType ToScalarType(string dtype) => dtype switch
    {
        "F32" => ScalarType.Float32,
        "F16" => ScalarType.Float16,
        "BF16" => ScalarType.BFloat16,
        "F64" => ScalarType.Float64,
        "I64" => ScalarType.Int64,
        "I32" => ScalarType.Int32,
        _ => throw new NotSupportedException($"dtype {dtype}"),
    };

    public static string ToDtypeName(ScalarType type) => type switch
    {
        ScalarType.Float32 => "F32",
        ScalarType.Float16 => "F16",
        ScalarType.BFloat16 => "BF16",
        ScalarType.Float64 => "F64",
        ScalarType.Int64 => "I64",
        ScalarType.Int32 => "I32",
        _ => throw new NotSupportedException($"dtype {type}"),
    };

    /// <summary>Parses "float32"/"f32"/"bf16"/... as used on the command line and in config.json.</summary>
    public static ScalarType ParseDtype(string name) => name.ToLowerInvariant() switch
    {
        "float32" or "f32" or "fp32" => ScalarType.Float32,
        "float16" or "f16" or "fp16" or "half" => ScalarType.Float16,
        "bfloat16" or "bf16" => ScalarType.BFloat16,
        _ => throw new ArgumentException($"unknown dtype '{name}' (use f32, f16 or bf16)"),
    };

    public static Tensor FromBytes(byte[] data, string dtype, long[] shape, ScalarType target, Device? device = null)
    {
        var t = empty(shape, ToScalarType(dtype));
        t.bytes = data;
        if (t.dtype == target && device == null) return t;
        var converted = t.to(target, device ?? CPU);
        t.Dispose();
        return converted;
    }

    public static byte[] ToBytes(Tensor t, ScalarType dtype)
    {
        using var c = t.detach().to(dtype, CPU).contiguous();
        return c.bytes.ToArray();
    }
}
