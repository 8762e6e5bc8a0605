using NoirCode.Core.Model;
using NoirCode.Core.Split;

namespace NoirCode.Endpoint;

/// <summary>Everything the service shares across calls: the shard, the worker, sessions, training streams, adapters, limits, metrics.</summary>
public sealed class EndpointState : IDisposable
{
    public EndpointOptions Options { get; }
    public CloudShard Shard { get; }
    public string Fingerprint { get; }
    public ModelWorker Worker { get; }
    public SessionRegistry Sessions { get; }
    /// <summary>The sessions' KV caches, one slot each; touched only on the model worker.</summary>
    public KvPool KvPool { get; }
    public TrainingRegistry Trainings { get; }
    public TenantRateLimits RateLimits { get; }
    public TenantAdapters Adapters { get; }
    public EndpointMetrics Metrics { get; } = new();

    public EndpointState(EndpointOptions options)
    {
        Options = options;
        Shard = CloudShard.Load(options.ShardFolder, options.Split);
        Fingerprint = ModelFingerprint.Of(options.ShardFolder);
        Worker = new ModelWorker(Shard, options, Metrics);
        KvPool = Shard.Middle.NewPool();
        Sessions = new SessionRegistry(options, Shard, KvPool);
        Trainings = new TrainingRegistry(options);
        RateLimits = new TenantRateLimits(options);
        Adapters = new TenantAdapters(options, Shard);
        Metrics.ActiveSessions = () => Sessions.Count;
        Metrics.QueueLength = () => Worker.QueueLength;
        Metrics.KvBytesReserved = () => Sessions.ReservedBytes;
        Metrics.KvBytesAllocated = () => KvPool.AllocatedBytes;
    }

    /// <summary>Stops the worker, then frees the pooled caches and the shard (nothing runs on them after the worker).</summary>
    public void Dispose()
    {
        Worker.Dispose();
        KvPool.Dispose();
        Shard.Dispose();
    }
}
