using NoirCode.Core.Util;
using NoirCode.Core.Weights;
using static TorchSharp.torch;

namespace NoirCode.Core.Model;

/// <summary>How weights are materialised: compute dtype and device. Float32 on CPU unless asked otherwise.</summary>
public sealed record LoadOptions
{
    public ScalarType Dtype { get; init; } = ScalarType.Float32;
    public Device? Device { get; init; }
    public IProgressSink Progress { get; init; } = NullProgress.Instance;
}

/// <summary>
/// Hands out a model folder's tensors by Hugging Face name, checked against the shapes the config implies
/// and converted to the compute dtype, reporting progress as it goes.
/// </summary>
public sealed class WeightSource
{
    readonly WeightFolder _folder;
    readonly Dictionary<string, long[]> _expected;
    readonly LoadOptions _options;
    readonly int _total;
    int _loaded;

    public WeightSource(WeightFolder folder, ModelConfig config, LoadOptions options, int tensorsToLoad)
    {
        _folder = folder;
        _options = options;
        _expected = ModelLayout.AllTensors(config).ToDictionary(t => t.Name, t => t.Shape);
        _total = tensorsToLoad;
    }

    public Tensor Get(string name)
    {
        var (entry, data) = _folder.Read(name, _expected[name]);
        var t = TensorBytes.FromBytes(data, entry.Dtype, entry.Shape, _options.Dtype, _options.Device);
        _options.Progress.Report("loading weights", ++_loaded, _total);
        return t;
    }
}
