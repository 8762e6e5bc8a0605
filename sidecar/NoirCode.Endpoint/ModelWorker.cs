using System.Collections.Concurrent;
using NoirCode.Core.Model;
using static TorchSharp.torch;

namespace NoirCode.Endpoint;

/// <summary>
/// The one thread that touches the model. Requests queue up while it works; each pass takes everything
/// queued, runs the one-token decode steps of all sessions as a single batch (the weights are read once for
/// all of them, so throughput grows with sessions) and the rest (prefills, truncations, training) in order.
/// A session has at most one request in flight, so no session's requests are reordered.
/// </summary>
public sealed class ModelWorker : IDisposable
{
    abstract record Work
    {
        public long Enqueued { get; } = Environment.TickCount64;
    }
    sealed record Decode(ServerSession Session, Tensor Hidden, Func<LoraAdapter?> Prepare, TaskCompletionSource<Tensor> Done) : Work
    {
        public LoraAdapter? Lora { get; set; }
    }
    sealed record Job(Func<object?> Run, TaskCompletionSource<object?> Done) : Work;

    readonly BlockingCollection<Work> _queue = new();
    readonly CloudShard _shard;
    readonly EndpointOptions _options;
    readonly EndpointMetrics _metrics;
    readonly Thread _thread;

    public int QueueLength => _queue.Count;

    public ModelWorker(CloudShard shard, EndpointOptions options, EndpointMetrics metrics)
    {
        _shard = shard; _options = options; _metrics = metrics;
        _thread = new Thread(Loop) { IsBackground = true, Name = "noir-model-worker" };
        _thread.Start();
    }

    /// <summary>
    /// One decode step (hidden [1, 1, D] at the session's next position); batched with others.
    /// <paramref name="prepare"/> runs on this thread first (checks, a rollback, the tenant's adapter), so a step
    /// costs one hand-over to the worker rather than one per preparation.
    /// </summary>
    public Task<Tensor> DecodeAsync(ServerSession session, Tensor hidden, Func<LoraAdapter?> prepare)
    {
        var done = new TaskCompletionSource<Tensor>(TaskCreationOptions.RunContinuationsAsynchronously);
        _queue.Add(new Decode(session, hidden, prepare, done));
        return done.Task;
    }

    /// <summary>Any other model work, run alone on the worker thread.</summary>
    public async Task<T> RunAsync<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<object?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _queue.Add(new Job(() => work(), done));
        return (T)(await done.Task)!;
    }

    void Loop()
    {
        foreach (var first in _queue.GetConsumingEnumerable())
        {
            long started = System.Diagnostics.Stopwatch.GetTimestamp();
            var batch = new List<Decode>();
            var jobs = new List<Job>();
            void Take(Work w) { if (w is Decode d) batch.Add(d); else jobs.Add((Job)w); }
            Take(first);
            while (batch.Count < _options.MaxDecodeBatch && _queue.TryTake(out var more)) Take(more);
            // Decode steps first: a session closing meanwhile queues the freeing of its cache as a job.
            foreach (var gone in batch.Where(d => d.Session.Closed)) gone.Done.TrySetCanceled();
            batch.RemoveAll(d => d.Session.Closed);
            batch.RemoveAll(d =>
            {
                try { d.Lora = d.Prepare(); return false; }
                catch (Exception e) { d.Done.TrySetException(e); return true; }
            });
            if (batch.Count > 0) RunDecodeBatch(batch);
            foreach (var job in jobs)
            {
                try { job.Done.SetResult(job.Run()); }
                catch (Exception e) { job.Done.SetException(e); }
            }
            _metrics.Busy(System.Diagnostics.Stopwatch.GetElapsedTime(started));
        }
    }

    void RunDecodeBatch(List<Decode> batch)
    {
        try
        {
            using var _ = no_grad();
            using var threads = Core.Util.IntraOpThreads.ForDecode(_shard.Config, 1);
            using var scope = NewDisposeScope();
            var hidden = cat(batch.Select(d => d.Hidden).ToArray(), 0);
            var output = _shard.Middle.ForwardDecodeBatch(hidden, batch.Select(d => d.Session.Length).ToArray(),
                batch.Select(d => d.Session.Cache).ToArray(), batch.Select(d => d.Lora).ToArray());
            _metrics.DecodeBatch(batch.Count);
            for (int r = 0; r < batch.Count; r++) batch[r].Done.SetResult(output.narrow(0, r, 1).clone().DetachFromDisposeScope());
        }
        catch (Exception e)
        {
            foreach (var d in batch) d.Done.TrySetException(e);
        }
    }

    public void Dispose() => _queue.CompleteAdding();
}
