using NoirCode.Core.Model;
using NoirCode.Core.Split;
using static TorchSharp.torch;

namespace NoirCode.Core.Generation;

/// <summary>
/// The middle of the model as seen by the client: hidden states in, hidden states out. In process for tests
/// and the local mode; over gRPC to the remote endpoint otherwise.
/// </summary>
public interface IMiddleSession : IDisposable
{
    /// <summary>hidden [1, T, D] at positions [T] → hidden [1, T, D] after the middle blocks.</summary>
    Tensor Forward(Tensor hidden, Tensor positions);
    void Truncate(long length);
}

/// <summary>The middle blocks run in this process, each session with its own KV cache.</summary>
public sealed class LocalMiddleSession : IMiddleSession
{
    readonly CloudShard _shard;
    readonly KvCache _cache;

    public LocalMiddleSession(CloudShard shard) { _shard = shard; _cache = shard.Middle.NewCache(); }

    public Tensor Forward(Tensor hidden, Tensor positions)
    {
        using var _ = no_grad();
        return _shard.Middle.Forward(hidden, positions, _cache);
    }

    public void Truncate(long length) => _cache.Truncate(length);
    public void Dispose() => _cache.Dispose();
}

/// <summary>
/// Where a token sits in the client's tables. The identity for a plain split; a secret permutation under
/// LTokenizer, so the model's inputs and outputs are indices rather than token ids.
/// </summary>
public interface IVocabularyMapping
{
    /// <summary>The token's index in the head's output (and its label in tuning).</summary>
    int ToIndex(int token);
    /// <summary>The embedding row this occurrence of the token is sent from: its index, or under homophonic keys one
    /// of its k rows, picked afresh per occurrence.</summary>
    int ToInputIndex(int token) => ToIndex(token);
    /// <summary>Next-token scores over indices → scores over token ids.</summary>
    float[] ToTokenLogits(float[] indexLogits);
}

/// <summary>
/// A session on the split model: client encoder → middle → client decoder, each with its own KV cache,
/// kept in step so that truncation rolls all three back to the same position.
/// </summary>
public sealed class SplitSession : IInferenceSession
{
    readonly ClientModel _client;
    readonly IMiddleSession _middle;
    readonly KvCache _encoderCache, _decoderCache;
    readonly IVocabularyMapping? _mapping;

    public SplitSession(ClientModel client, IMiddleSession middle, IVocabularyMapping? mapping = null)
    {
        _client = client; _middle = middle; _mapping = mapping;
        _encoderCache = client.Encoder.NewCache();
        _decoderCache = client.Decoder.NewCache();
    }

    public long Length => _encoderCache.Length;

    public float[] Append(IReadOnlyList<int> ids) => Run(ids, lastOnly: true)[0];

    public float[][] AppendEach(IReadOnlyList<int> ids) => Run(ids, lastOnly: false);

    float[][] Run(IReadOnlyList<int> ids, bool lastOnly)
    {
        using var _ = no_grad();
        using var threads = Util.IntraOpThreads.ForDecode(_client.Config, ids.Count);
        using var scope = NewDisposeScope();
        long start = Length;
        var (idTensor, positions) = SessionTensors.For(_mapping == null ? ids : ids.Select(_mapping.ToInputIndex).ToArray(), start);
        try
        {
            var encoded = _client.FirstBlocks(idTensor, positions, _encoderCache);
            var enriched = _middle.Forward(encoded, positions);
            var decoded = _client.LastBlocksAndHead(enriched, positions, _decoderCache, lastOnly);
            var rows = lastOnly ? new[] { SessionTensors.LastLogits(decoded) } : SessionTensors.EveryLogits(decoded);
            return _mapping == null ? rows : rows.Select(_mapping.ToTokenLogits).ToArray();
        }
        catch
        {
            // A failed step (an unreachable endpoint, a refusal) leaves all three parts where they were.
            _encoderCache.Truncate(Math.Min(start, _encoderCache.Length));
            _decoderCache.Truncate(Math.Min(start, _decoderCache.Length));
            try { _middle.Truncate(start); } catch (Exception) { /* the middle rebuilds from the client's history */ }
            throw;
        }
    }

    public void Truncate(long length)
    {
        _middle.Truncate(length);
        _encoderCache.Truncate(length);
        _decoderCache.Truncate(length);
    }

    public void Dispose() { _encoderCache.Dispose(); _decoderCache.Dispose(); _middle.Dispose(); }
}
