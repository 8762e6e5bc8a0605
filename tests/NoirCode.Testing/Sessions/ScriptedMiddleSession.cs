using NoirCode.Core.Generation;
using static TorchSharp.torch;

namespace NoirCode.Testing.Sessions;

/// <summary>
/// A middle (the endpoint's blocks) for tests: hands the hidden states to <paramref name="inner"/>, or without one
/// returns them unchanged (a residual stack whose blocks add nothing); records what it receives; and fails as an
/// unreachable endpoint does while <see cref="Fail"/> is set.
/// </summary>
public sealed class ScriptedMiddleSession(IMiddleSession? inner = null) : IMiddleSession
{
    public bool Fail { get; set; }
    /// <summary>Copies of the hidden states received, in order (disposed with this session).</summary>
    public List<Tensor> Received { get; } = new();

    public Tensor Forward(Tensor hidden, Tensor positions)
    {
        if (Fail) throw new IOException("endpoint unreachable");
        Received.Add(hidden.detach().clone().DetachFromDisposeScope());
        return inner?.Forward(hidden, positions) ?? hidden.clone();
    }

    public void Truncate(long length) => inner?.Truncate(length);

    public void Dispose()
    {
        foreach (var t in Received) t.Dispose();
        inner?.Dispose();
    }
}
