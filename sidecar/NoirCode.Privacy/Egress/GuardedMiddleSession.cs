using TorchSharp;
using NoirCode.Core.Generation;
using static TorchSharp.torch;

namespace NoirCode.Privacy.Egress;

/// <summary>
/// The client's door to the middle blocks: every hidden state passes the egress guard, and the middle
/// receives only what the guard encoded (decoded back from the wire bytes), exactly as a remote endpoint would.
/// </summary>
public sealed class GuardedMiddleSession : IMiddleSession
{
    readonly EgressGuard _guard;
    readonly IMiddleSession _inner;

    public GuardedMiddleSession(EgressGuard guard, IMiddleSession inner) { _guard = guard; _inner = inner; }

    public Tensor Forward(Tensor hidden, Tensor positions)
    {
        long start = positions[0].item<long>();
        var packet = _guard.Admit(hidden, EgressKind.HiddenStates, start);
        using var onWire = packet.Decode();
        // Explicit scalars, kept alive through the call (see BlockStack.CausalMask).
        using var first = packet.StartPosition.ToScalar();
        using var end = (packet.StartPosition + packet.Tokens).ToScalar();
        using var one = 1L.ToScalar();
        using var wirePositions = arange(first, end, one, ScalarType.Int64);
        return _inner.Forward(onWire.to(hidden.dtype), wirePositions);
    }

    public void Truncate(long length) => _inner.Truncate(length);
    public void Dispose() => _inner.Dispose();
}
