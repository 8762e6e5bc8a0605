using Grpc.Core;
using NoirCode.Core.Model;
using NoirCode.Core.Split;

namespace NoirCode.Endpoint;

/// <summary>
/// Open sessions, with their KV memory reserved up front against a budget (as Petals does), per-tenant caps on
/// sessions and KV memory, and expiry of idle sessions. A full budget refuses new sessions with ResourceExhausted; it never evicts.
/// Sessions' caches are slots of one <see cref="KvPool"/> (when given), so the model worker's decode batches attend in one
/// operation; a slot holds the session's max_length rounded up to <see cref="KvPool.PositionChunk"/>, which is what is reserved.
/// </summary>
public sealed class SessionRegistry
{
    readonly Dictionary<string, ServerSession> _sessions = new();
    readonly EndpointOptions _options;
    readonly CloudShard _shard;
    readonly KvPool? _pool;
    long _reserved;

    /// <param name="pool">where sessions' caches live (the endpoint's, used only on its model worker); none: each its own</param>
    public SessionRegistry(EndpointOptions options, CloudShard shard, KvPool? pool = null) { _options = options; _shard = shard; _pool = pool; }

    public int Count { get { lock (_sessions) return _sessions.Count; } }
    public long ReservedBytes { get { lock (_sessions) return _reserved; } }

    /// <summary>KV bytes reserved by a tenant's open sessions.</summary>
    public long ReservedBy(string tenant)
    {
        lock (_sessions) return _sessions.Values.Where(s => s.Tenant == tenant).Sum(s => s.ReservedBytes);
    }

    /// <summary>KV bytes one session of <paramref name="maxLength"/> positions can use (float32 keys and values; with
    /// a pool, its slot: max_length rounded up to <see cref="KvPool.PositionChunk"/>).</summary>
    public long BytesFor(int maxLength)
    {
        if (_pool is not null) return _pool.BytesFor(maxLength); // the slot the pool gives it
        var c = _shard.Config;
        return 2L * 4 * maxLength * c.NumKvHeads * c.HeadDim * _shard.Middle.Count;
    }

    public ServerSession Open(string tenant, int maxLength, Protocol.WireDtype replyDtype)
    {
        long bytes = BytesFor(maxLength);
        lock (_sessions)
        {
            int ofTenant = _sessions.Values.Count(s => s.Tenant == tenant);
            if (ofTenant >= _options.MaxSessionsPerTenant)
                throw new RpcException(new Status(StatusCode.ResourceExhausted, $"tenant has {ofTenant} open sessions, the limit is {_options.MaxSessionsPerTenant}; close one or retry later"));
            if (_reserved + bytes > _options.KvBudgetBytes)
                throw new RpcException(new Status(StatusCode.ResourceExhausted,
                    $"the endpoint's KV memory is full ({_reserved >> 20} MiB of {_options.KvBudgetBytes >> 20} MiB reserved; this session needs {Math.Max(1, bytes >> 20)} MiB); retry later or ask for a shorter max_length"));
            long tenantBytes = ReservedBy(tenant);
            if (tenantBytes + bytes > _options.TenantKvQuota)
                throw new RpcException(new Status(StatusCode.ResourceExhausted,
                    $"this tenant's KV memory quota is used ({tenantBytes >> 20} MiB of {_options.TenantKvQuota >> 20} MiB reserved by its open sessions; this session needs {Math.Max(1, bytes >> 20)} MiB); close a session or ask for a shorter max_length"));
            var session = new ServerSession
            {
                Id = Guid.NewGuid().ToString("N"), Tenant = tenant, MaxLength = maxLength,
                Cache = _pool?.Open(maxLength) ?? _shard.Middle.NewCache(), ReservedBytes = bytes, ReplyDtype = replyDtype,
            };
            _sessions[session.Id] = session;
            _reserved += bytes;
            return session;
        }
    }

    /// <returns>whether the session was still open</returns>
    public bool Close(ServerSession session)
    {
        lock (_sessions)
        {
            if (!_sessions.Remove(session.Id)) return false;
            session.Closed = true;
            _reserved -= session.ReservedBytes;
            return true;
        }
    }

    /// <summary>Cancels sessions idle for longer than the timeout; their streams then end and close them.</summary>
    public int ExpireIdle()
    {
        long cutoff = Environment.TickCount64 - (long)_options.IdleTimeout.TotalMilliseconds;
        List<ServerSession> idle;
        lock (_sessions) idle = _sessions.Values.Where(s => s.LastActiveTicks < cutoff).ToList();
        foreach (var s in idle) s.Expiry.Cancel();
        return idle.Count;
    }
}
