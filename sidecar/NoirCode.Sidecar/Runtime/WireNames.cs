using NoirCode.Protocol;

namespace NoirCode.Sidecar.Runtime;

/// <summary>The wire formats by the names users give them (noir.wire, --wire).</summary>
public static class WireNames
{
    public static WireDtype Parse(string text) => text.ToLowerInvariant() switch
    {
        "f16" or "fp16" or "float16" => WireDtype.Float16,
        "f32" or "fp32" or "float32" => WireDtype.Float32,
        "bf16" or "bfloat16" => WireDtype.Bfloat16,
        "int8" => WireDtype.Int8Blockwise,
        _ => throw new ArgumentException($"--wire must be f16, f32, bf16 or int8, not '{text}'"),
    };
}
