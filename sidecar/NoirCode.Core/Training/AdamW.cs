using System.Globalization;
using NoirCode.Core.Model;
using NoirCode.Core.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace NoirCode.Core.Training;

/// <summary>
/// AdamW (Loshchilov &amp; Hutter; PyTorch's update rule, decoupled weight decay, bias-corrected moments), written here
/// because TorchSharp's own passes implicit Scalars to libtorch without keeping them alive: a garbage collection during
/// step() could free one mid-call, which crashed `noir tune` after about 100 steps (ScalarLifetimeTests). Every scalar
/// here is made explicitly and disposed after the step. State (moments and step) saves to a safetensors file.
/// </summary>
public sealed class AdamW
{
    readonly IReadOnlyList<TorchSharp.Modules.Parameter> _parameters;
    readonly Tensor?[] _m, _v;
    public double LearningRate { get; set; }
    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Eps { get; }
    public double WeightDecay { get; }
    public long Steps { get; private set; }

    public AdamW(IEnumerable<TorchSharp.Modules.Parameter> parameters, double learningRate, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0.01)
    {
        _parameters = parameters.ToList();
        _m = new Tensor?[_parameters.Count];
        _v = new Tensor?[_parameters.Count];
        (LearningRate, Beta1, Beta2, Eps, WeightDecay) = (learningRate, beta1, beta2, eps, weightDecay);
    }

    public void zero_grad()
    {
        foreach (var p in _parameters) p.grad?.zero_();
    }

    public void step()
    {
        Steps++;
        double bias1 = 1 - Math.Pow(Beta1, Steps), bias2 = 1 - Math.Pow(Beta2, Steps);
        using var _ = no_grad();
        using var decay = (1 - LearningRate * WeightDecay).ToScalar();
        using var beta1 = Beta1.ToScalar();
        using var beta2 = Beta2.ToScalar();
        using var oneMinusBeta1 = (1 - Beta1).ToScalar();
        using var oneMinusBeta2 = (1 - Beta2).ToScalar();
        using var correction2 = Math.Sqrt(bias2).ToScalar();
        using var eps = Eps.ToScalar();
        using var one = 1.ToScalar();
        using var stepSize = (-LearningRate / bias1).ToScalar();
        for (int i = 0; i < _parameters.Count; i++)
        {
            var p = _parameters[i];
            if (p.grad is not { } g) continue;
            var m = _m[i] ??= zeros_like(p).DetachFromDisposeScope();
            var v = _v[i] ??= zeros_like(p).DetachFromDisposeScope();
            using var scope = NewDisposeScope();
            if (WeightDecay != 0) p.mul_(decay);
            m.mul_(beta1).add_(g, oneMinusBeta1);
            v.mul_(beta2).addcmul_(g, g, oneMinusBeta2);
            var denominator = v.sqrt().div_(correction2).add_(eps, one);
            p.addcdiv_(m, denominator, stepSize);
        }
    }

    /// <summary>Moments and step count, for resuming; owner-only when <paramref name="mode"/> says so.</summary>
    public void Save(string path, UnixFileMode? mode = null)
    {
        var tensors = new List<TensorData>();
        for (int i = 0; i < _parameters.Count; i++)
        {
            if (_m[i] is not { } m || _v[i] is not { } v) continue;
            tensors.Add(TensorData.Of($"m.{i}", "F32", m.shape, TensorBytes.ToBytes(m, ScalarType.Float32)));
            tensors.Add(TensorData.Of($"v.{i}", "F32", v.shape, TensorBytes.ToBytes(v, ScalarType.Float32)));
        }
        SafetensorsFile.Write(path, tensors, new Dictionary<string, string>
        {
            ["steps"] = Steps.ToString(CultureInfo.InvariantCulture), ["parameters"] = _parameters.Count.ToString(CultureInfo.InvariantCulture),
        }, mode);
    }

    public void Load(string path)
    {
        var file = SafetensorsFile.Open(path);
        if (file.Metadata.GetValueOrDefault("parameters") != _parameters.Count.ToString(CultureInfo.InvariantCulture))
            throw new Util.ModelLoadException(path, "the optimiser state is for a different set of parameters");
        for (int i = 0; i < _parameters.Count; i++)
        {
            if (!file.Tensors.TryGetValue($"m.{i}", out var m) || !file.Tensors.TryGetValue($"v.{i}", out var v)) continue;
            if (!m.Shape.SequenceEqual(_parameters[i].shape)) throw new Util.ModelLoadException(path, $"optimiser state {i} has the wrong shape");
            _m[i]?.Dispose(); _v[i]?.Dispose();
            _m[i] = TensorBytes.FromBytes(file.ReadBytes(m), m.Dtype, m.Shape, ScalarType.Float32).DetachFromDisposeScope();
            _v[i] = TensorBytes.FromBytes(file.ReadBytes(v), v.Dtype, v.Shape, ScalarType.Float32).DetachFromDisposeScope();
        }
        Steps = long.Parse(file.Metadata["steps"], CultureInfo.InvariantCulture);
    }
}
