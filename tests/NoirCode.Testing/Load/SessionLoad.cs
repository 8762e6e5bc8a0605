using System.Collections.Concurrent;
using System.Diagnostics;
using NoirCode.Privacy.Egress;
using NoirCode.Remote;
using static TorchSharp.torch;
using NoirCode.Protocol;

namespace NoirCode.Testing.Load;

/// <summary>What a load run saw: decode steps done, failures, and the latency of each step.</summary>
public sealed record LoadResult(long Steps, long Failures, IReadOnlyList<string> FailureMessages, double Seconds, double[] StepMs)
{
    public double TokensPerSecond => Steps / Seconds;
}

/// <summary>
/// Concurrent sessions against an endpoint, each on its own thread and connection as separate users would be:
/// a prefill, then one-token decode steps (fp16 hidden states, as the client sends them) until the time is up,
/// rolling back when the session's length is reached. The hidden states are random (the endpoint's work does not
/// depend on them), so the client's own model costs nothing here and the endpoint is what is measured.
/// </summary>
public static class SessionLoad
{
    public static LoadResult Run(Uri endpoint, string fingerprint, int hidden, int sessions, TimeSpan duration,
        int prefill = 32, int maxLength = 256, Action<int>? onOpened = null, CancellationToken cancel = default)
    {
        long steps = 0, failures = 0;
        var messages = new ConcurrentQueue<string>();
        var latencies = new ConcurrentBag<double[]>();
        using var started = new CountdownEvent(sessions);
        using var go = new ManualResetEventSlim();
        var threads = Enumerable.Range(0, sessions).Select(s => new Thread(() =>
        {
            var mine = new List<double>();
            bool signalled = false;
            try
            {
                using var _ = no_grad();
                var options = new EndpointClientOptions { Endpoints = new[] { endpoint }, MaxAttempts = 2, StepTimeout = TimeSpan.FromSeconds(30) };
                using var session = new RemoteMiddleSession(options, new EgressGuard(hidden, WireDtype.Float16), fingerprint, maxLength, hidden);
                using var prompt = randn(new long[] { 1, prefill, hidden });
                using (var p = arange(0, prefill, ScalarType.Int64)) session.Forward(prompt, p).Dispose();
                started.Signal();
                signalled = true;
                go.Wait(cancel);
                var deadline = Stopwatch.StartNew();
                long position = prefill;
                using var token = randn(new long[] { 1, 1, hidden });
                var clock = new Stopwatch();
                while (deadline.Elapsed < duration && !cancel.IsCancellationRequested)
                {
                    if (position >= maxLength) { session.Truncate(prefill); position = prefill; }
                    using var p = tensor(new[] { position }, ScalarType.Int64);
                    clock.Restart();
                    try { session.Forward(token, p).Dispose(); }
                    catch (Exception e) when (e is EndpointUnavailableException or EndpointRequestException)
                    {
                        Interlocked.Increment(ref failures);
                        messages.Enqueue(e.Message);
                        break;
                    }
                    mine.Add(clock.Elapsed.TotalMilliseconds);
                    position++;
                    Interlocked.Increment(ref steps);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Interlocked.Increment(ref failures);
                messages.Enqueue(e.GetType().Name + ": " + e.Message);
                if (!signalled) started.Signal(); // the others need not wait for this one
            }
            latencies.Add(mine.ToArray());
        })
        { IsBackground = true, Name = $"load-session-{s}" }).ToList();
        foreach (var t in threads) t.Start();
        started.Wait(TimeSpan.FromMinutes(2));
        onOpened?.Invoke(sessions);
        var wall = Stopwatch.StartNew();
        go.Set();
        foreach (var t in threads) t.Join();
        return new LoadResult(steps, failures, messages.ToArray(), wall.Elapsed.TotalSeconds, latencies.SelectMany(x => x).ToArray());
    }
}
