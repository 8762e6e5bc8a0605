using TorchSharp;
using NoirCode.Core.Model;
using static TorchSharp.torch;

namespace NoirCode.Core.Generation;

/// <summary>A session on the unsplit model, all on this machine.</summary>
public sealed class LocalSession : IInferenceSession
{
    readonly CausalLM _model;
    readonly KvCache _cache;

    public LocalSession(CausalLM model) { _model = model; _cache = model.Blocks.NewCache(); }

    public long Length => _cache.Length;

    public float[] Append(IReadOnlyList<int> ids)
    {
        using var _ = no_grad();
        using var threads = Util.IntraOpThreads.ForDecode(_model.Config, ids.Count);
        using var scope = NewDisposeScope();
        var (idTensor, positions) = SessionTensors.For(ids, Length);
        return SessionTensors.LastLogits(_model.Forward(idTensor, positions, _cache));
    }

    public float[][] AppendEach(IReadOnlyList<int> ids)
    {
        using var _ = no_grad();
        using var threads = Util.IntraOpThreads.ForDecode(_model.Config, ids.Count);
        using var scope = NewDisposeScope();
        var (idTensor, positions) = SessionTensors.For(ids, Length);
        return SessionTensors.EveryLogits(_model.Forward(idTensor, positions, _cache, lastOnly: false));
    }

    public void Truncate(long length) => _cache.Truncate(length);

    public void Dispose() => _cache.Dispose();
}

internal static class SessionTensors
{
    public static (Tensor Ids, Tensor Positions) For(IReadOnlyList<int> ids, long start)
    {
        if (ids.Count == 0) throw new ArgumentException("append at least one token");
        var idTensor = tensor(ids.Select(i => (long)i).ToArray(), ScalarType.Int64).unsqueeze(0);
        // Explicit scalars, kept alive through the call (see BlockStack.CausalMask).
        using var first = start.ToScalar();
        using var end = (start + ids.Count).ToScalar();
        using var one = 1L.ToScalar();
        var positions = arange(first, end, one, ScalarType.Int64);
        return (idTensor, positions);
    }

    public static float[] LastLogits(Tensor logits) => logits[0, -1].to(ScalarType.Float32).cpu().data<float>().ToArray();

    /// <summary>logits [1, T, V] → T rows of V.</summary>
    public static float[][] EveryLogits(Tensor logits)
    {
        var all = logits[0].to(ScalarType.Float32).cpu().data<float>().ToArray();
        int rows = (int)logits.shape[1], vocab = (int)logits.shape[2];
        return Enumerable.Range(0, rows).Select(r => all.AsSpan(r * vocab, vocab).ToArray()).ToArray();
    }
}
