using TorchSharp;
using static TorchSharp.torch;

namespace NoirCode.Core.Model;

/// <summary>
/// A contiguous run of decoder blocks [First, First+Count): the unit that the split puts on one side.
/// The client head, the cloud middle and the client tail are each one stack; the unsplit model is a stack
/// of all layers. Positions are explicit, so a stack never needs to see what came before it.
/// </summary>
public sealed class BlockStack : nn.Module
{
    readonly ModelConfig _config;
    readonly RotaryEmbedding _rope;
    readonly TorchSharp.Modules.ModuleList<DecoderBlock> blocks;

    public int First { get; }
    public int Count => blocks.Count;

    public BlockStack(ModelConfig config, int first, int count, Func<string, Tensor> weight) : base($"blocks{first}_{first + count}")
    {
        _config = config;
        _rope = new RotaryEmbedding(config);
        First = first;
        blocks = new TorchSharp.Modules.ModuleList<DecoderBlock>(
            Enumerable.Range(first, count).Select(i => new DecoderBlock(config, i, weight)).ToArray());
        RegisterComponents();
    }

    public KvCache NewCache() => new(Count);

    /// <summary>Runs the hidden states [B, T, D] at the given positions through every block.</summary>
    /// <param name="cache">null for a cache-free pass (training, full recompute)</param>
    /// <param name="lora">an adapter for (some of) these blocks, e.g. a tenant's STuning LoRA</param>
    public Tensor Forward(Tensor hidden, Tensor positions, KvCache? cache = null, LoraAdapter? lora = null)
    {
        using var scope = NewDisposeScope();
        long t = hidden.shape[1], past = cache?.Length ?? 0;
        var (cos, sin) = _rope.Tables(positions, hidden.dtype);
        // A chunk that follows cached positions needs an explicit causal mask offset by the past length.
        Tensor? mask = past > 0 && t > 1 ? CausalMask(t, past, hidden.device) : null;
        var x = hidden;
        for (int i = 0; i < blocks.Count; i++) x = blocks[i].Forward(x, cos, sin, cache?[i], mask, lora?.Layer(blocks[i].Index));
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>A pool for the caches of many sessions of this stack (the endpoint's): their decode steps attend in one call.
    /// Its keys and values have the weights' dtype.</summary>
    public KvPool NewPool() => new(_config, Count, NamedWeights().First().P.dtype);

    /// <summary>
    /// One decode step for B independent sequences: hidden [B, 1, D], row r at positions[r] with caches[r] and
    /// loras[r]. Equal, row by row, to B separate one-token <see cref="Forward"/> calls. When the caches are slots of
    /// one <see cref="KvPool"/> (the endpoint's) the rows run as one batch, attention included
    /// (<see cref="BatchedDecodeAttention"/>); other caches run one row at a time.
    /// </summary>
    public Tensor ForwardDecodeBatch(Tensor hidden, long[] positions, IReadOnlyList<KvCache> caches, IReadOnlyList<LoraAdapter?> loras)
    {
        using var scope = NewDisposeScope();
        long b = hidden.shape[0];
        if (hidden.shape[1] != 1 || positions.Length != b || caches.Count != b || loras.Count != b)
            throw new ArgumentException("a decode batch has one token, one position, one cache and one adapter slot per row");
        for (int r = 0; r < b; r++)
            if (caches[r].Length != positions[r]) throw new ArgumentException($"row {r}: position {positions[r]} does not follow its cache of {caches[r].Length}");
        using var batch = PooledDecodeBatch.TryPlan(caches, hidden.device);
        if (batch is null)
        {
            var rows = new Tensor[b];
            for (int r = 0; r < b; r++)
                rows[r] = Forward(hidden.narrow(0, r, 1), tensor(new[] { positions[r] }, device: hidden.device), caches[r], loras[r]);
            return cat(rows, 0).MoveToOuterDisposeScope();
        }
        var (cos, sin) = _rope.Tables(tensor(positions, device: hidden.device).unsqueeze(1), hidden.dtype); // [B,1,1,hd]
        var x = hidden;
        try
        {
            for (int i = 0; i < blocks.Count; i++)
            {
                int index = blocks[i].Index;
                x = blocks[i].ForwardDecodeBatch(x, cos, sin, batch, i, loras.Select(l => l?.Layer(index)).ToArray());
            }
        }
        catch
        {
            batch.Discard();
            throw;
        }
        batch.Advance();
        return x.MoveToOuterDisposeScope();
    }

    static Tensor CausalMask(long t, long past, Device device)
    {
        // Explicit scalars, kept alive through the native calls: an implicit one (`+ past`) can be freed by a garbage
        // collection mid-call (ScalarLifetimeTests); speculative decoding makes a mask for every verification step.
        using var first = past.ToScalar();
        using var end = (past + t).ToScalar();
        using var zero = 0L.ToScalar();
        using var one = 1L.ToScalar();
        var rows = arange(first, end, one, ScalarType.Int64, device).unsqueeze(1);
        var cols = arange(zero, end, one, ScalarType.Int64, device).unsqueeze(0);
        return cols <= rows;
    }

    public IEnumerable<(string Name, TorchSharp.Modules.Parameter P)> NamedWeights() => blocks.SelectMany(b => b.NamedWeights());
}
