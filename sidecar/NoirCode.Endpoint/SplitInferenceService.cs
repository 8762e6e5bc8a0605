using System.Diagnostics;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using NoirCode.Core.Model;
using NoirCode.Protocol;
using TorchSharp;
using static TorchSharp.torch;

namespace NoirCode.Endpoint;

/// <summary>
/// The gRPC service: inference sessions here, STuning's training streams in SplitInferenceService.Train.cs. Each bad
/// request ends its stream with a status that says what was wrong (InvalidArgument, FailedPrecondition,
/// ResourceExhausted); the endpoint itself keeps serving. Payloads are never logged.
/// </summary>
public sealed partial class SplitInferenceService : SplitInference.SplitInferenceBase
{
    readonly EndpointState _state;
    readonly ILogger _log;

    public SplitInferenceService(EndpointState state, ILogger<SplitInferenceService> log) { _state = state; _log = log; }

    static string Tenant(ServerCallContext context) => (string)context.UserState[AuthInterceptor.TenantKey];

    public override async Task Session(IAsyncStreamReader<SessionRequest> requests, IServerStreamWriter<SessionReply> replies, ServerCallContext context)
    {
        string tenant = Tenant(context);
        if (!await requests.MoveNext(context.CancellationToken)) return;
        if (requests.Current.KindCase != SessionRequest.KindOneofCase.Open) throw Invalid("the first message of a session must be open");
        var open = requests.Current.Open;
        CheckModel(open.ModelFingerprint);
        int maxPositions = _state.Shard.Config.MaxPositions;
        if (open.MaxLength == 0 || open.MaxLength > maxPositions) throw Invalid($"max_length must be between 1 and the model's {maxPositions}");
        if (!Enum.IsDefined(open.ReplyDtype)) throw Invalid($"unknown reply dtype {(int)open.ReplyDtype}");
        if (!TenantAdapters.IsAdapterId(open.AdapterId)) throw Invalid("adapter_id must be letters, digits, - or _, at most 64");

        var session = Rejecting(() => _state.Sessions.Open(tenant, (int)open.MaxLength, open.ReplyDtype));
        session.AdapterId = open.AdapterId;
        _state.Metrics.SessionOpened();
        _log.LogInformation("session {Session} opened for tenant {Tenant} (max {Max} positions)", session.Id, tenant, open.MaxLength);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, session.Expiry.Token);
        try
        {
            await replies.WriteAsync(new SessionReply { Opened = new SessionOpened { SessionId = session.Id, HiddenSize = (uint)_state.Shard.Config.HiddenSize, MaxLength = open.MaxLength } });
            await foreach (var request in Arrivals(requests, tenant, () => session.LastActiveTicks = Environment.TickCount64, cancel.Token))
            {
                switch (request.KindCase)
                {
                    case SessionRequest.KindOneofCase.Forward:
                        await replies.WriteAsync(new SessionReply { Forward = await ForwardAsync(session, request.Forward) });
                        break;
                    case SessionRequest.KindOneofCase.Truncate:
                        long length = (long)request.Truncate.Length;
                        await _state.Worker.RunAsync(tenant, () => { CheckTruncate(session, length); session.Cache.Truncate(length); return 0; });
                        await replies.WriteAsync(new SessionReply { Truncated = new Truncated { Length = (ulong)length } });
                        break;
                    case SessionRequest.KindOneofCase.Close:
                        return;
                    default:
                        throw Invalid($"unexpected {request.KindCase} inside a session");
                }
            }
        }
        catch (OperationCanceledException) when (session.Expiry.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.DeadlineExceeded, $"session expired after {_state.Options.IdleTimeout.TotalSeconds:F0} s idle; open a new one (the client replays its history)"));
        }
        finally
        {
            if (_state.Sessions.Close(session))
            {
                _state.Metrics.SessionClosed();
                // During shutdown the worker is gone, and the pool is freed with the endpoint's state.
                try { await _state.Worker.RunAsync(tenant, () => { session.Cache.Dispose(); return 0; }); }
                catch (ObjectDisposedException) { }
                _log.LogInformation("session {Session} closed", session.Id);
            }
        }
    }

    async Task<ForwardResult> ForwardAsync(ServerSession session, ForwardStep step)
    {
        var clock = Stopwatch.StartNew();
        // Checked before any arithmetic: a start near 2^64 would wrap to a negative position.
        if (step.StartPosition > (ulong)session.MaxLength) throw Invalid($"start_position {step.StartPosition} is beyond this session's max_length {session.MaxLength}");
        long start = (long)step.StartPosition;
        if (step.Hidden is null) throw Invalid("forward needs hidden states");
        if (start + step.Hidden.Tokens > session.MaxLength)
            throw Invalid($"positions {start}..{start + step.Hidden.Tokens - 1} go beyond this session's max_length {session.MaxLength}");
        Tensor hidden;
        try { hidden = HiddenBlocks.Decode(step.Hidden, _state.Shard.Config.HiddenSize, session.MaxLength - start); }
        catch (ArgumentException e) { throw Invalid(e.Message); }
        LimitPositions(session.Tenant, hidden);
        using (hidden)
        {
            _state.Metrics.Bytes(step.Hidden.Data.Length + step.Hidden.Scales.Length, 0);
            // On the worker: a start before the end rolls the session back first (an edit, a cancelled generation).
            LoraAdapter? Prepare()
            {
                if (start > session.Length) throw Invalid($"start_position {start} is past the {session.Length} positions this session holds");
                if (start < session.Length) session.Cache.Truncate(start);
                return _state.Adapters.ForInference(session.Tenant, session.AdapterId);
            }
            Tensor output = hidden.shape[1] == 1
                ? await _state.Worker.DecodeAsync(session, hidden, Prepare)
                : await PrefillAsync(session, hidden, start, Prepare);
            using (output)
            {
                var block = HiddenBlocks.EncodeReply(output, session.ReplyDtype);
                _state.Metrics.Bytes(0, block.Data.Length + block.Scales.Length);
                _state.Metrics.Step(clock.Elapsed);
                return new ForwardResult { StartPosition = (ulong)start, Hidden = block };
            }
        }
    }

    /// <summary>
    /// Several positions (a prompt, or a speculative step's few tokens) in chunks of
    /// <see cref="EndpointOptions.PrefillChunkTokens"/>, one worker turn each, so other tenants' decode steps run
    /// between the chunks. Each chunk extends the KV cache like a decode step does, so the result is the same.
    /// </summary>
    Task<Tensor> PrefillAsync(ServerSession session, Tensor hidden, long start, Func<LoraAdapter?> prepare)
    {
        long total = hidden.shape[1];
        int chunk = Math.Max(1, _state.Options.PrefillChunkTokens);
        int slices = (int)((total + chunk - 1) / chunk);
        var parts = new List<Tensor>(slices);
        LoraAdapter? lora = null;
        return _state.Worker.RunInSlicesAsync(session.Tenant, slices, slice =>
        {
            try
            {
                if (slice == 0) lora = prepare();
                else if (session.Closed) throw new OperationCanceledException("the session closed during its prefill");
                long from = (long)slice * chunk, length = Math.Min(chunk, total - from);
                using var _ = no_grad();
                // A speculative step's few tokens run like a decode step (one thread for a small model).
                using var threads = Core.Util.IntraOpThreads.ForDecode(_state.Shard.Config, length);
                // Explicit scalars, kept alive through the call (see BlockStack.CausalMask).
                using var first = (start + from).ToScalar();
                using var end = (start + from + length).ToScalar();
                using var one = 1L.ToScalar();
                using var positions = arange(first, end, one, ScalarType.Int64);
                using var part = hidden.narrow(1, from, length);
                parts.Add(_state.Shard.Middle.Forward(part, positions, session.Cache, lora));
                if (slice < slices - 1) return null!;
                var whole = parts.Count == 1 ? parts[0] : cat(parts.ToArray(), 1);
                if (parts.Count > 1) foreach (var p in parts) p.Dispose();
                return whole;
            }
            catch
            {
                foreach (var p in parts) p.Dispose();
                throw;
            }
        });
    }

    void LimitRequests(string tenant)
    {
        if (_state.RateLimits.RequestRefusal(tenant) is { } refusal) throw Rejected(StatusCode.ResourceExhausted, refusal);
    }

    /// <summary>A stream's requests as they arrive (inference sessions and training streams alike): each marks the
    /// stream active and passes the tenant's request rate limit before it is handled.</summary>
    async IAsyncEnumerable<T> Arrivals<T>(IAsyncStreamReader<T> requests, string tenant, Action markActive,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancel)
    {
        while (await requests.MoveNext(cancel))
        {
            markActive();
            LimitRequests(tenant);
            yield return requests.Current;
        }
    }

    /// <summary>The token rate limit, on a decoded block (its true size); the block is freed when refused.</summary>
    void LimitPositions(string tenant, Tensor block)
    {
        if (_state.RateLimits.PositionRefusal(tenant, block.shape[1]) is not { } refusal) return;
        block.Dispose();
        throw Rejected(StatusCode.ResourceExhausted, refusal);
    }

    static void CheckTruncate(ServerSession session, long length)
    {
        if (length < 0 || length > session.Length) throw Invalid($"cannot truncate a session of {session.Length} positions to {length}");
    }

    void CheckModel(string fingerprint)
    {
        if (fingerprint != _state.Fingerprint)
            throw Rejected(StatusCode.FailedPrecondition, $"this endpoint serves model {_state.Fingerprint}, not {(fingerprint.Length == 0 ? "(none given)" : fingerprint)}");
    }

    T Rejecting<T>(Func<T> f)
    {
        try { return f(); }
        catch (RpcException) { _state.Metrics.Rejected(); throw; }
    }

    RpcException Rejected(StatusCode code, string message) { _state.Metrics.Rejected(); return new RpcException(new Status(code, message)); }
    static RpcException Invalid(string message) => new(new Status(StatusCode.InvalidArgument, message));
}
