using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Remote;
using NoirCode.STuning;
using static TorchSharp.torch;

namespace NoirCode.Attack.Wire;

/// <summary>
/// The client's decoder blocks and head as they were at the start of each STuning step (the weights that made that
/// step's gradients): more than any cloud can know, so an attack that fails with them fails with any decoder.
/// </summary>
public sealed class ClientDecoderSnapshots : IDisposable
{
    readonly List<List<(string Name, Tensor Value)>> _steps = new();

    public ClientDecoderSnapshots(SplitFineTuner tuner) => tuner.StepStarting += (step, client) =>
    {
        while (_steps.Count <= step) _steps.Add(new());
        _steps[step] = Weights(client).Select(w => (w.Name, w.P.detach().clone().DetachFromDisposeScope())).ToList();
    };

    public int Count => _steps.Count;

    /// <summary>Loads step <paramref name="step"/>'s weights into <paramref name="model"/> (a client of the same shape).</summary>
    public void LoadInto(ClientModel model, int step)
    {
        using var _ = no_grad();
        var target = Weights(model).ToDictionary(w => w.Name, w => w.P);
        foreach (var (name, value) in _steps[step]) target[name].copy_(value);
    }

    static IEnumerable<(string Name, TorchSharp.Modules.Parameter P)> Weights(ClientModel m) => m.Decoder.NamedWeights().Concat(m.Head.NamedWeights());

    public void Dispose()
    {
        foreach (var s in _steps) foreach (var (_, v) in s) v.Dispose();
    }
}
