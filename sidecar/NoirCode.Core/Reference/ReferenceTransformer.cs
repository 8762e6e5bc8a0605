using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Double;
using NoirCode.Core.Model;
using NoirCode.Core.Weights;

namespace NoirCode.Core.Reference;

/// <summary>
/// An independent float64 implementation of the Llama-family forward pass with MathNet.Numerics, written from
/// the Hugging Face modeling code without sharing any maths with the TorchSharp engine: it decodes the raw
/// safetensors bytes itself, recomputes everything for the whole sequence (no cache) and loops over heads.
/// It exists to check the engine, and is only practical for small models.
/// </summary>
public sealed class ReferenceTransformer
{
    readonly ModelConfig _c;
    readonly WeightFolder _w;
    readonly Dictionary<string, double[]> _cache = new();

    public ReferenceTransformer(string folder)
    {
        _c = ModelConfig.Load(folder);
        _w = WeightFolder.Open(folder);
    }

    /// <summary>Logits [T, V] for every position of <paramref name="ids"/>.</summary>
    public Matrix<double> Logits(IReadOnlyList<int> ids)
    {
        int t = ids.Count, d = _c.HiddenSize;
        var embedding = Vector(ModelLayout.Embedding);
        Matrix<double> x = DenseMatrix.Create(t, d, (i, j) => embedding[(long)ids[i] * d + j]);
        for (int layer = 0; layer < _c.NumLayers; layer++)
        {
            string L(string part) => ModelLayout.Layer(layer, part);
            var h = x + AttentionBlock(RmsNorm(x, Vector(L("input_layernorm.weight"))), layer);
            var n = RmsNorm(h, Vector(L("post_attention_layernorm.weight")));
            var gate = Linear(n, L("mlp.gate_proj"));
            var up = Linear(n, L("mlp.up_proj"));
            var act = DenseMatrix.Create(t, _c.IntermediateSize, (i, j) => Silu(gate[i, j]) * up[i, j]);
            x = h + Linear(act, L("mlp.down_proj"));
        }
        var final = RmsNorm(x, Vector(ModelLayout.FinalNorm));
        var head = Transposed(_c.TieWordEmbeddings ? ModelLayout.Embedding : ModelLayout.LmHead);
        return final * head;
    }

    Matrix<double> AttentionBlock(Matrix<double> x, int layer)
    {
        int t = x.RowCount, hd = _c.HeadDim;
        string L(string part) => ModelLayout.Layer(layer, part);
        var q = Linear(x, L("self_attn.q_proj"));
        var k = Linear(x, L("self_attn.k_proj"));
        var v = Linear(x, L("self_attn.v_proj"));
        var invFreq = InverseFrequencies();
        var output = DenseMatrix.Create(t, _c.NumHeads * hd, 0);
        for (int head = 0; head < _c.NumHeads; head++)
        {
            int kvHead = head / (_c.NumHeads / _c.NumKvHeads); // heads share a kv head in consecutive groups
            var qh = Rotate(q, head * hd, invFreq);
            var kh = Rotate(k, kvHead * hd, invFreq);
            for (int i = 0; i < t; i++)
            {
                var scores = new double[i + 1];
                double max = double.NegativeInfinity;
                for (int j = 0; j <= i; j++)
                {
                    double s = 0;
                    for (int e = 0; e < hd; e++) s += qh[i, e] * kh[j, e];
                    scores[j] = s / Math.Sqrt(hd);
                    max = Math.Max(max, scores[j]);
                }
                double sum = 0;
                for (int j = 0; j <= i; j++) sum += scores[j] = Math.Exp(scores[j] - max);
                for (int e = 0; e < hd; e++)
                {
                    double acc = 0;
                    for (int j = 0; j <= i; j++) acc += scores[j] / sum * v[j, kvHead * hd + e];
                    output[i, head * hd + e] = acc;
                }
            }
        }
        return Linear(output, L("self_attn.o_proj"));
    }

    /// <summary>The head_dim columns starting at <paramref name="col"/>, rotated by position (rotate-half layout).</summary>
    Matrix<double> Rotate(Matrix<double> m, int col, double[] invFreq)
    {
        int hd = _c.HeadDim, half = hd / 2;
        return DenseMatrix.Create(m.RowCount, hd, (pos, e) =>
        {
            int f = e % half;
            double angle = pos * invFreq[f];
            double x = m[pos, col + e];
            double partner = e < half ? -m[pos, col + e + half] : m[pos, col + e - half];
            return x * Math.Cos(angle) + partner * Math.Sin(angle);
        });
    }

    double[] InverseFrequencies()
    {
        int hd = _c.HeadDim;
        var inv = Enumerable.Range(0, hd / 2).Select(i => Math.Pow(_c.RopeTheta, -(2.0 * i) / hd)).ToArray();
        var s = _c.RopeScaling;
        if (s == null) return inv;
        if (s.Type == "linear") return inv.Select(f => f / s.Factor).ToArray();
        // llama3, following transformers' _compute_llama3_parameters step by step
        double lowFreqWavelen = s.OriginalMaxPositions / s.LowFreqFactor;
        double highFreqWavelen = s.OriginalMaxPositions / s.HighFreqFactor;
        var result = new double[inv.Length];
        for (int i = 0; i < inv.Length; i++)
        {
            double wavelen = 2 * Math.PI / inv[i];
            double scaled = wavelen > lowFreqWavelen ? inv[i] / s.Factor : inv[i];
            double smooth = (s.OriginalMaxPositions / wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
            double smoothed = (1 - smooth) * scaled / s.Factor + smooth * scaled;
            bool medium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
            result[i] = medium ? smoothed : scaled;
        }
        return result;
    }

    Matrix<double> RmsNorm(Matrix<double> x, double[] weight)
    {
        var y = DenseMatrix.Create(x.RowCount, x.ColumnCount, 0);
        for (int i = 0; i < x.RowCount; i++)
        {
            double ms = 0;
            for (int j = 0; j < x.ColumnCount; j++) ms += x[i, j] * x[i, j];
            double scale = 1 / Math.Sqrt(ms / x.ColumnCount + _c.RmsNormEps);
            for (int j = 0; j < x.ColumnCount; j++) y[i, j] = weight[j] * x[i, j] * scale;
        }
        return y;
    }

    Matrix<double> Linear(Matrix<double> x, string prefix)
    {
        var y = x * Transposed(prefix + ".weight");
        if (_w.Contains(prefix + ".bias"))
        {
            var b = Vector(prefix + ".bias");
            for (int i = 0; i < y.RowCount; i++) for (int j = 0; j < y.ColumnCount; j++) y[i, j] += b[j];
        }
        return y;
    }

    /// <summary>A stored [out, in] weight as the [in, out] matrix: row-major [out, in] is column-major [in, out].</summary>
    Matrix<double> Transposed(string name)
    {
        var e = _w.Entry(name);
        return DenseMatrix.OfColumnMajor((int)e.Shape[1], (int)e.Shape[0], Vector(name));
    }

    static double Silu(double x) => x / (1 + Math.Exp(-x));

    double[] Vector(string name)
    {
        if (_cache.TryGetValue(name, out var v)) return v;
        var e = _w.Entry(name);
        byte[] raw = _w.ReadRaw(name);
        v = e.Dtype switch
        {
            "F32" => Enumerable.Range(0, raw.Length / 4).Select(i => (double)BitConverter.ToSingle(raw, 4 * i)).ToArray(),
            "F16" => Enumerable.Range(0, raw.Length / 2).Select(i => (double)BitConverter.ToHalf(raw, 2 * i)).ToArray(),
            "BF16" => Enumerable.Range(0, raw.Length / 2).Select(i => (double)BitConverter.Int32BitsToSingle((raw[2 * i] | raw[2 * i + 1] << 8) << 16)).ToArray(),
            _ => throw new NotSupportedException(e.Dtype),
        };
        return _cache[name] = v;
    }
}
