using static TorchSharp.torch;

namespace NoirCode.Core.Model;

/// <summary>
/// Rotary position embedding in the Hugging Face "rotate half" layout, with the inverse frequencies derived
/// from rope_theta and, when present, rope_scaling (linear or llama3).
/// </summary>
public sealed class RotaryEmbedding
{
    readonly double[] _invFreq;

    public RotaryEmbedding(ModelConfig config) { _invFreq = InverseFrequencies(config); }

    public static double[] InverseFrequencies(ModelConfig c)
    {
        int half = c.HeadDim / 2;
        var inv = new double[half];
        for (int i = 0; i < half; i++) inv[i] = 1.0 / Math.Pow(c.RopeTheta, 2.0 * i / c.HeadDim);
        if (c.RopeScaling is not { } s) return inv;
        if (s.Type == "linear")
            return inv.Select(f => f / s.Factor).ToArray();
        // llama3: long wavelengths are slowed by the factor, short ones kept, the band between interpolated.
        double lowWavelen = s.OriginalMaxPositions / s.LowFreqFactor, highWavelen = s.OriginalMaxPositions / s.HighFreqFactor;
        return inv.Select(f =>
        {
            double wavelen = 2 * Math.PI / f;
            if (wavelen < highWavelen) return f;
            if (wavelen > lowWavelen) return f / s.Factor;
            double smooth = (s.OriginalMaxPositions / wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
            return (1 - smooth) * f / s.Factor + smooth * f;
        }).ToArray();
    }

    /// <summary>cos and sin tables for the given positions ([T] or [B, T]), shaped to broadcast over heads.</summary>
    public (Tensor Cos, Tensor Sin) Tables(Tensor positions, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var inv = tensor(_invFreq.Select(x => (float)x).ToArray(), device: positions.device);
        var freqs = positions.to(ScalarType.Float32).unsqueeze(-1) * inv;      // [.., T, hd/2]
        var emb = cat(new[] { freqs, freqs }, -1);                              // [.., T, hd]
        var cos = emb.cos().to(dtype);
        var sin = emb.sin().to(dtype);
        if (positions.dim() == 1) { cos = cos.unsqueeze(0).unsqueeze(0); sin = sin.unsqueeze(0).unsqueeze(0); } // [1,1,T,hd]
        else { cos = cos.unsqueeze(1); sin = sin.unsqueeze(1); }                                                  // [B,1,T,hd]
        return (cos.MoveToOuterDisposeScope(), sin.MoveToOuterDisposeScope());
    }

    /// <summary>Rotates x ([B, heads, T, hd]) by the position tables.</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = NewDisposeScope();
        long half = x.shape[^1] / 2;
        var x1 = x.narrow(-1, 0, half);
        var x2 = x.narrow(-1, half, half);
        var rotated = cat(new[] { -x2, x1 }, -1);
        return (x * cos).Plus(rotated * sin).MoveToOuterDisposeScope();
    }
}
