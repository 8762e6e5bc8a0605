using Grpc.Core;

namespace NoirCode.Endpoint;

/// <summary>
/// Open training streams, at most a few per tenant, and the memory their pending samples hold, against a per-tenant
/// quota (all of a tenant's streams together, so opening more streams gains nothing), and expiry of idle streams.
/// </summary>
public sealed class TrainingRegistry(EndpointOptions options)
{
    readonly Dictionary<string, TrainingStream> _streams = new();

    public int Count { get { lock (_streams) return _streams.Count; } }

    public long HeldBy(string tenant)
    {
        lock (_streams) return _streams.Values.Where(s => s.Tenant == tenant).Sum(s => s.HeldBytes);
    }

    public TrainingStream Open(string tenant)
    {
        var stream = new TrainingStream { Id = Guid.NewGuid().ToString("N"), Tenant = tenant };
        lock (_streams)
        {
            int open = _streams.Values.Count(s => s.Tenant == tenant);
            if (open >= options.MaxTrainingStreamsPerTenant)
                throw new RpcException(new Status(StatusCode.ResourceExhausted,
                    $"this tenant has {open} training streams open, the limit is {options.MaxTrainingStreamsPerTenant}; close one or retry later"));
            _streams[stream.Id] = stream;
        }
        return stream;
    }

    /// <summary>Reserves a sample's graph memory before its forward pass runs; refused with ResourceExhausted over the quota.</summary>
    public void Hold(TrainingStream stream, long bytes)
    {
        lock (_streams)
        {
            long held = HeldBy(stream.Tenant);
            if (held + bytes > options.TrainingBytesPerTenant)
                throw new RpcException(new Status(StatusCode.ResourceExhausted,
                    $"this tenant's training memory quota is used ({held >> 20} MiB of {options.TrainingBytesPerTenant >> 20} MiB held by samples awaiting their backward pass; this one needs {Math.Max(1, bytes >> 20)} MiB); send the pending backward passes first, or shorter samples"));
            stream.HeldBytes += bytes;
        }
    }

    public void Release(TrainingStream stream, long bytes)
    {
        lock (_streams) stream.HeldBytes = Math.Max(0, stream.HeldBytes - bytes);
    }

    public void Close(TrainingStream stream)
    {
        lock (_streams)
        {
            _streams.Remove(stream.Id);
            stream.HeldBytes = 0;
        }
    }

    /// <summary>Cancels streams idle for longer than the training timeout; they then end and free their graphs.</summary>
    public int ExpireIdle()
    {
        long cutoff = Environment.TickCount64 - (long)options.TrainingIdleTimeout.TotalMilliseconds;
        List<TrainingStream> idle;
        lock (_streams) idle = _streams.Values.Where(s => s.LastActiveTicks < cutoff).ToList();
        foreach (var s in idle) s.Expiry.Cancel();
        return idle.Count;
    }
}
