using NoirCode.Privacy.Egress;
using NoirCode.Remote;
using static TorchSharp.torch;

namespace NoirCode.Attack.Wire;

/// <summary>
/// What the endpoint holds of a STuning run, per sample in order: the middle output it computed (Ë) and the
/// boundary gradient the client sent back for it, captured at the client's egress guard (the same bytes the
/// endpoint received). Samples pair up by order: the tuner sends each sample's gradient before the next forward.
/// Sample ids are random, so each sample's step is counted from the step messages, as the endpoint counts them.
/// </summary>
public sealed class TrainingCapture : IEgressTap, IDisposable
{
    readonly List<(int Step, Tensor Middle)> _middles = new();
    int _steps;
    readonly List<Tensor> _gradients = new();

    public TrainingCapture(EgressGuard guard, RemoteTrainingSession session)
    {
        guard.AddTap(this);
        session.MiddleReceived += (_, middle) => _middles.Add((_steps, middle[0].to_type(ScalarType.Float32).detach().clone().DetachFromDisposeScope()));
        session.Stepped += _ => _steps++;
    }

    public void Observe(EgressPacket packet)
    {
        if (packet.Kind != EgressKind.BoundaryGradient) return;
        _gradients.Add(packet.Decode()[0].DetachFromDisposeScope());
    }

    /// <summary>(step from 0 in this stream, Ë [T, D], ∂L/∂Ë [T, D]) for every sample whose gradient was sent, in order.</summary>
    public IReadOnlyList<(int Step, Tensor Middle, Tensor Gradient)> Samples =>
        _gradients.Select((g, i) => (_middles[i].Step, _middles[i].Middle, g)).ToList();

    public void Dispose()
    {
        foreach (var (_, m) in _middles) m.Dispose();
        foreach (var g in _gradients) g.Dispose();
    }
}
