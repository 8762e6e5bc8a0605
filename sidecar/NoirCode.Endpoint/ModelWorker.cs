using NoirCode.Core.Model;
using NoirCode.Core.Split;
using static TorchSharp.torch;

namespace NoirCode.Endpoint;

/// <summary>
/// The one thread that touches the model, shared fairly between tenants. Each tenant has its own queue; each pass
/// runs the queued one-token decode steps of all tenants as a single batch (taken round-robin, one per tenant at a
/// time; the weights are read once for all of them, so throughput grows with sessions), then one slice of one
/// job, the tenants taking turns. A long prefill is several slices (<see cref="EndpointOptions.PrefillChunkTokens"/>),
/// so other tenants' decode steps wait for one slice, never for a whole prompt.
/// A session has at most one request in flight, so no session's requests are reordered.
/// </summary>
public sealed class ModelWorker : IDisposable
{
    abstract class Work
    {
        public required string Tenant { get; init; }
    }
    sealed class Decode : Work
    {
        public required ServerSession Session { get; init; }
        public required Tensor Hidden { get; init; }
        public required Func<LoraAdapter?> Prepare { get; init; }
        public TaskCompletionSource<Tensor> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public LoraAdapter? Lora { get; set; }
    }
    sealed class Job : Work
    {
        /// <summary>Runs slice i; the last slice's value is the job's result.</summary>
        public required Func<int, object?> RunSlice { get; init; }
        public required int Slices { get; init; }
        public int Next { get; set; }
        public TaskCompletionSource<object?> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
    sealed class TenantQueue
    {
        public Queue<Decode> Decodes { get; } = new();
        public Queue<Job> Jobs { get; } = new();
        public bool Empty => Decodes.Count == 0 && Jobs.Count == 0;
    }

    readonly object _lock = new();
    readonly Dictionary<string, TenantQueue> _queues = new();
    // Tenants with queued work, in turn order; _nextJob is whose job slice runs next.
    readonly List<string> _turns = new();
    int _nextJob, _queued;
    bool _stopping;
    readonly CloudShard _shard;
    readonly EndpointOptions _options;
    readonly EndpointMetrics _metrics;
    readonly Thread _thread;

    /// <summary>Work queued, and starting on the worker thread (observers run on the thread that raised them).</summary>
    public event Action<WorkerTurn>? Queued, Starting;

    public int QueueLength { get { lock (_lock) return _queued; } }

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
        var decode = new Decode { Tenant = session.Tenant, Session = session, Hidden = hidden, Prepare = prepare };
        Enqueue(decode, new WorkerTurn(session.Tenant, WorkerTurnKind.Decode, 0, 1));
        return decode.Done.Task;
    }

    /// <summary>Any other model work of a tenant, run alone on the worker thread in one turn.</summary>
    public Task<T> RunAsync<T>(string tenant, Func<T> work) => RunInSlicesAsync(tenant, 1, _ => work());

    /// <summary>
    /// Work in <paramref name="slices"/> turns: slice i runs when this tenant's turn comes again after slice i-1, so
    /// other tenants' work runs in between. The last slice's value is the result; an exception ends the job.
    /// </summary>
    public async Task<T> RunInSlicesAsync<T>(string tenant, int slices, Func<int, T> slice)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slices, 1);
        var job = new Job { Tenant = tenant, Slices = slices, RunSlice = i => slice(i) };
        Enqueue(job, new WorkerTurn(tenant, WorkerTurnKind.Job, 0, slices));
        return (T)(await job.Done.Task)!;
    }

    void Enqueue(Work work, WorkerTurn turn)
    {
        lock (_lock)
        {
            if (_stopping) throw new ObjectDisposedException(nameof(ModelWorker));
            if (!_queues.TryGetValue(work.Tenant, out var queue))
            {
                _queues[work.Tenant] = queue = new TenantQueue();
                _turns.Add(work.Tenant);
            }
            if (work is Decode d) queue.Decodes.Enqueue(d); else queue.Jobs.Enqueue((Job)work);
            _queued++;
            Monitor.Pulse(_lock);
        }
        Queued?.Invoke(turn);
    }

    /// <summary>Takes this pass's decode steps (round-robin over tenants) and the next tenant's job slice.</summary>
    (List<Decode> Batch, Job? Job)? Take()
    {
        lock (_lock)
        {
            while (_queued == 0 && !_stopping) Monitor.Wait(_lock);
            if (_queued == 0) return null;
            var batch = new List<Decode>();
            for (bool took = true; took && batch.Count < _options.MaxDecodeBatch;)
            {
                took = false;
                foreach (var tenant in _turns)
                {
                    if (batch.Count >= _options.MaxDecodeBatch) break;
                    if (_queues[tenant].Decodes.TryDequeue(out var d)) { batch.Add(d); took = true; }
                }
            }
            Job? job = null;
            for (int i = 0; i < _turns.Count && job == null; i++)
            {
                int at = (_nextJob + i) % _turns.Count;
                if (_queues[_turns[at]].Jobs.TryDequeue(out job)) _nextJob = at + 1;
            }
            _queued -= batch.Count + (job == null ? 0 : 1);
            // Tenants with nothing queued leave the rotation (the job's tenant rejoins if the job has more slices).
            for (int i = _turns.Count - 1; i >= 0; i--)
            {
                if (!_queues[_turns[i]].Empty) continue;
                _queues.Remove(_turns[i]);
                _turns.RemoveAt(i);
                if (i < _nextJob) _nextJob--;
            }
            if (_turns.Count > 0) _nextJob %= _turns.Count; else _nextJob = 0;
            return (batch, job);
        }
    }

    void Loop()
    {
        // A small model runs all its work on one intra-op thread (what IntraOpThreads.ForDecode picks for its decode
        // steps), so the worker never switches libtorch's thread count. Switching it between decode batches and prefill
        // chunks, dozens of times a second under a prefill flood, crashed the endpoint in libtorch (fairness benchmark).
        if (_shard.Config.HiddenSize <= Core.Util.IntraOpThreads.SmallModelHidden) set_num_threads(1);
        while (Take() is { } next)
        {
            var (batch, job) = next;
            long started = System.Diagnostics.Stopwatch.GetTimestamp();
            // A session closing meanwhile queues the freeing of its cache as a job: its steps are dropped, not run.
            foreach (var gone in batch.Where(d => d.Session.Closed)) gone.Done.TrySetCanceled();
            batch.RemoveAll(d => d.Session.Closed);
            batch.RemoveAll(d =>
            {
                try { d.Lora = d.Prepare(); return false; }
                catch (Exception e) { d.Done.TrySetException(e); return true; }
            });
            if (batch.Count > 0) RunDecodeBatch(batch);
            if (job != null) RunSlice(job);
            _metrics.Busy(System.Diagnostics.Stopwatch.GetElapsedTime(started));
        }
    }

    void RunSlice(Job job)
    {
        int slice = job.Next++;
        Starting?.Invoke(new WorkerTurn(job.Tenant, WorkerTurnKind.Job, slice, job.Slices));
        object? result;
        try { result = job.RunSlice(slice); }
        catch (Exception e) { job.Done.SetException(e); return; }
        if (job.Next == job.Slices) { job.Done.SetResult(result); return; }
        lock (_lock) // to the back of its tenant's queue: the tenant's other work and other tenants go first
        {
            if (!_queues.TryGetValue(job.Tenant, out var queue))
            {
                _queues[job.Tenant] = queue = new TenantQueue();
                _turns.Add(job.Tenant);
            }
            queue.Jobs.Enqueue(job);
            _queued++;
        }
    }

    void RunDecodeBatch(List<Decode> batch)
    {
        foreach (var d in batch) Starting?.Invoke(new WorkerTurn(d.Tenant, WorkerTurnKind.Decode, 0, 1));
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

    public void Dispose()
    {
        lock (_lock) { _stopping = true; Monitor.PulseAll(_lock); }
    }
}
