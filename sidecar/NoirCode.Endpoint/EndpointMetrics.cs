using System.Globalization;
using System.Text;

namespace NoirCode.Endpoint;

/// <summary>Counters for /metrics in Prometheus text format: sessions, queue, step latency, bytes. No payloads.</summary>
public sealed class EndpointMetrics
{
    long _sessionsOpened, _sessionsClosed, _steps, _decodeBatches, _decodeRows, _bytesIn, _bytesOut, _rejected, _trainSteps, _busyTicks;
    double _stepSecondsSum;
    readonly double[] _bucketBounds = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5 };
    readonly long[] _buckets = new long[10];
    public Func<int> ActiveSessions { get; set; } = () => 0;
    public Func<int> QueueLength { get; set; } = () => 0;
    public Func<long> KvBytesReserved { get; set; } = () => 0;
    /// <summary>KV memory the pool's shelves hold, spare slots included (read on the model worker).</summary>
    public Func<long> KvBytesAllocated { get; set; } = () => 0;

    public void SessionOpened() => Interlocked.Increment(ref _sessionsOpened);
    public void SessionClosed() => Interlocked.Increment(ref _sessionsClosed);
    public void Rejected() => Interlocked.Increment(ref _rejected);
    public void TrainStep() => Interlocked.Increment(ref _trainSteps);
    public void Bytes(long inBytes, long outBytes) { Interlocked.Add(ref _bytesIn, inBytes); Interlocked.Add(ref _bytesOut, outBytes); }
    /// <summary>Time the model worker spent computing (the rest it waited for work): saturation, for capacity planning.</summary>
    public void Busy(TimeSpan spent) => Interlocked.Add(ref _busyTicks, spent.Ticks);
    public void DecodeBatch(int rows) { Interlocked.Increment(ref _decodeBatches); Interlocked.Add(ref _decodeRows, rows); }

    public void Step(TimeSpan latency)
    {
        lock (_buckets)
        {
            _steps++;
            _stepSecondsSum += latency.TotalSeconds;
            int i = Array.FindIndex(_bucketBounds, b => latency.TotalSeconds <= b);
            _buckets[i < 0 ? _bucketBounds.Length : i]++;
        }
    }

    public string Render()
    {
        var sb = new StringBuilder();
        void Metric(string name, string type, string help, double value)
        {
            sb.Append($"# HELP {name} {help}\n# TYPE {name} {type}\n{name} {value.ToString(CultureInfo.InvariantCulture)}\n");
        }
        Metric("noir_sessions_active", "gauge", "Open generation sessions.", ActiveSessions());
        Metric("noir_sessions_opened_total", "counter", "Sessions opened.", _sessionsOpened);
        Metric("noir_sessions_closed_total", "counter", "Sessions closed or expired.", _sessionsClosed);
        Metric("noir_queue_length", "gauge", "Work items waiting for the model.", QueueLength());
        Metric("noir_kv_bytes_reserved", "gauge", "KV-cache memory reserved by open sessions.", KvBytesReserved());
        Metric("noir_kv_bytes_allocated", "gauge", "KV-cache memory the pool holds, spare slots included.", KvBytesAllocated());
        Metric("noir_bytes_received_total", "counter", "Hidden-state bytes received.", _bytesIn);
        Metric("noir_bytes_sent_total", "counter", "Hidden-state bytes sent.", _bytesOut);
        Metric("noir_requests_rejected_total", "counter", "Requests refused (validation, limits, auth).", _rejected);
        Metric("noir_decode_batches_total", "counter", "Batched decode passes.", _decodeBatches);
        Metric("noir_decode_rows_total", "counter", "Decode steps served in batches.", _decodeRows);
        Metric("noir_train_steps_total", "counter", "LoRA optimiser steps.", _trainSteps);
        Metric("noir_model_busy_seconds_total", "counter", "Time the model worker spent computing.", TimeSpan.FromTicks(Interlocked.Read(ref _busyTicks)).TotalSeconds);
        lock (_buckets)
        {
            sb.Append("# HELP noir_step_seconds Time from a forward request to its reply.\n# TYPE noir_step_seconds histogram\n");
            long cumulative = 0;
            for (int i = 0; i < _bucketBounds.Length; i++)
            {
                cumulative += _buckets[i];
                sb.Append($"noir_step_seconds_bucket{{le=\"{_bucketBounds[i].ToString(CultureInfo.InvariantCulture)}\"}} {cumulative}\n");
            }
            sb.Append($"noir_step_seconds_bucket{{le=\"+Inf\"}} {_steps}\nnoir_step_seconds_sum {_stepSecondsSum.ToString(CultureInfo.InvariantCulture)}\nnoir_step_seconds_count {_steps}\n");
        }
        return sb.ToString();
    }
}
