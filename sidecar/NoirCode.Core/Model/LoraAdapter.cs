using NoirCode.Core.Weights;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NoirCode.Core.Model;

/// <summary>One block's low-rank updates: q += s·B_q(A_q x), v += s·B_v(A_v x).</summary>
public sealed record LoraLayer(Parameter QA, Parameter QB, Parameter VA, Parameter VB, double Scale);

/// <summary>
/// A LoRA on the q and v projections of a run of blocks (the endpoint's per-tenant adapter for STuning).
/// B starts at zero, so a fresh adapter leaves the model unchanged. Saved with PEFT's tensor names.
/// </summary>
public sealed class LoraAdapter : nn.Module
{
    readonly Dictionary<int, LoraLayer> _layers = new();
    readonly ParameterList parameters_ = new();
    public int Rank { get; }
    public double Alpha { get; }

    public LoraAdapter(ModelConfig config, IEnumerable<int> layers, int rank = 8, double alpha = 16, int seed = 0) : base(nameof(LoraAdapter))
    {
        Rank = rank; Alpha = alpha;
        var generator = new Generator((ulong)seed);
        long d = config.HiddenSize, q = (long)config.NumHeads * config.HeadDim, kv = (long)config.NumKvHeads * config.HeadDim;
        foreach (int i in layers)
        {
            // A ~ U(−1/√d, 1/√d) as PEFT's default (Kaiming uniform with a = √5); B = 0.
            Parameter A(long outDim) => new(rand(new[] { outDim, d }, generator: generator).mul_(2).sub_(1).mul_(1 / Math.Sqrt(d)));
            var layer = new LoraLayer(A(rank), new Parameter(zeros(q, rank)), A(rank), new Parameter(zeros(kv, rank)), alpha / rank);
            _layers[i] = layer;
            foreach (var p in new[] { layer.QA, layer.QB, layer.VA, layer.VB }) parameters_.Add(p);
        }
        RegisterComponents();
    }

    public LoraLayer? Layer(int index) => _layers.GetValueOrDefault(index);

    public IEnumerable<(string Name, Parameter P)> NamedWeights() => _layers.OrderBy(kv => kv.Key).SelectMany(kv => new[]
    {
        (ModelLayout.Layer(kv.Key, "self_attn.q_proj.lora_A.weight"), kv.Value.QA),
        (ModelLayout.Layer(kv.Key, "self_attn.q_proj.lora_B.weight"), kv.Value.QB),
        (ModelLayout.Layer(kv.Key, "self_attn.v_proj.lora_A.weight"), kv.Value.VA),
        (ModelLayout.Layer(kv.Key, "self_attn.v_proj.lora_B.weight"), kv.Value.VB),
    });

    public void Save(string path, UnixFileMode? mode = null) =>
        SafetensorsFile.Write(path, NamedWeights().Select(w => TensorData.Of(w.Name, "F32", w.P.shape, TensorBytes.ToBytes(w.P, ScalarType.Float32))).ToList(),
            new Dictionary<string, string> { ["rank"] = Rank.ToString(), ["alpha"] = Alpha.ToString(System.Globalization.CultureInfo.InvariantCulture) }, mode);

    public void Load(string path)
    {
        var file = SafetensorsFile.Open(path);
        using var _ = no_grad();
        foreach (var (name, p) in NamedWeights())
        {
            var entry = file.Tensors.GetValueOrDefault(name) ?? throw new Util.ModelLoadException(path, $"adapter tensor '{name}' is missing");
            if (!entry.Shape.SequenceEqual(p.shape)) throw new Util.ModelLoadException(path, $"adapter tensor '{name}' has the wrong shape");
            using var t = TensorBytes.FromBytes(file.ReadBytes(entry), entry.Dtype, entry.Shape, p.dtype);
            p.copy_(t);
        }
    }

    internal static Tensor Delta(Tensor x, Parameter a, Parameter b, double scale)
    {
        using var s = scale.ToScalar(); // explicit and kept alive through the call (see RmsNorm)
        return nn.functional.linear(nn.functional.linear(x, a), b).mul(s);
    }
}
