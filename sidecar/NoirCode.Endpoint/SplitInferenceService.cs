using System.Diagnostics;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using NoirCode.Core.Model;
using NoirCode.Protocol;
using TorchSharp;
using static TorchSharp.torch;

namespace NoirCode.Endpoint;

/// <summary>
/// The gRPC service. Each bad request ends its stream with a status that says what was wrong
/// (InvalidArgument, FailedPrecondition, ResourceExhausted); the endpoint itself keeps serving. Payloads are never logged.
/// </summary>
public sealed class SplitInferenceService : SplitInference.SplitInferenceBase
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
            while (await requests.MoveNext(cancel.Token))
            {
                session.LastActiveTicks = Environment.TickCount64;
                var request = requests.Current;
                LimitRequests(tenant);
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
                await _state.Worker.RunAsync(tenant, () => { session.Cache.Dispose(); return 0; });
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

    public override async Task Train(IAsyncStreamReader<TrainRequest> requests, IServerStreamWriter<TrainReply> replies, ServerCallContext context)
    {
        string tenant = Tenant(context);
        if (!await requests.MoveNext(context.CancellationToken)) return;
        if (requests.Current.KindCase != TrainRequest.KindOneofCase.Open) throw Invalid("the first message of a training stream must be open");
        CheckModel(requests.Current.Open.ModelFingerprint);
        double lr = requests.Current.Open.LearningRate;
        string adapterId = requests.Current.Open.AdapterId;
        if (!TenantAdapters.IsAdapterId(adapterId)) throw Invalid("adapter_id must be letters, digits, - or _, at most 64");
        var training = await _state.Worker.RunAsync(tenant, () => _state.Adapters.GetOrCreate(tenant, lr, adapterId));
        int hiddenSize = _state.Shard.Config.HiddenSize;
        var pending = new Dictionary<ulong, PendingSample>();
        var stream = Rejecting(() => _state.Trainings.Open(tenant));
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, stream.Expiry.Token);
        _log.LogInformation("training stream opened for tenant {Tenant}, adapter {Adapter}", tenant, adapterId.Length == 0 ? "(unnamed)" : adapterId);
        try
        {
            await replies.WriteAsync(new TrainReply { Opened = new TrainOpened { HiddenSize = (uint)hiddenSize, StepsSoFar = (ulong)training.Steps } });
            while (await requests.MoveNext(cancel.Token))
            {
                stream.LastActiveTicks = Environment.TickCount64;
                var request = requests.Current;
                LimitRequests(tenant);
                switch (request.KindCase)
                {
                    case TrainRequest.KindOneofCase.Forward:
                    {
                        var f = request.Forward;
                        if (pending.ContainsKey(f.SampleId)) throw Invalid($"sample {f.SampleId} is already in flight");
                        if (pending.Count >= 64) throw Rejected(StatusCode.ResourceExhausted, "at most 64 samples may await their backward pass");
                        Tensor input;
                        try { input = HiddenBlocks.Decode(f.Hidden, hiddenSize, _state.Shard.Config.MaxPositions); }
                        catch (ArgumentException e) { throw Invalid(e.Message); }
                        LimitPositions(tenant, input);
                        long bytes = TrainingMemory.BytesFor(_state.Shard.Config, _state.Shard.Middle.Count, input.shape[1]);
                        try { _state.Trainings.Hold(stream, bytes); }
                        catch (RpcException) { input.Dispose(); _state.Metrics.Rejected(); throw; }
                        Tensor output;
                        try
                        {
                            output = await _state.Worker.RunAsync(tenant, () =>
                            {
                                using var _ = enable_grad();
                                input.requires_grad_(true);
                                using var positions = arange(input.shape[1], ScalarType.Int64);
                                return _state.Shard.Middle.Forward(input, positions, cache: null, training.Adapter);
                            });
                        }
                        catch { _state.Trainings.Release(stream, bytes); input.Dispose(); throw; }
                        pending[f.SampleId] = new PendingSample(input, output, bytes);
                        HiddenBlock result;
                        using (var detached = output.detach()) result = HiddenBlocks.EncodeReply(detached, f.Hidden.Dtype);
                        await replies.WriteAsync(new TrainReply { Forward = new TrainForwardResult { SampleId = f.SampleId, Hidden = result } });
                        break;
                    }
                    case TrainRequest.KindOneofCase.Backward:
                    {
                        var b = request.Backward;
                        if (!pending.Remove(b.SampleId, out var sample)) throw Invalid($"sample {b.SampleId} has no forward pass awaiting its gradient");
                        _state.Trainings.Release(stream, sample.Bytes);
                        Tensor grad;
                        try { grad = HiddenBlocks.Decode(b.Gradient, hiddenSize, sample.Positions); }
                        catch (ArgumentException e) { sample.Dispose(); throw Invalid(e.Message); }
                        if (grad.shape[1] != sample.Positions)
                        {
                            grad.Dispose(); sample.Dispose();
                            throw Invalid("the gradient must cover the same positions as the forward pass");
                        }
                        if (_state.RateLimits.PositionRefusal(tenant, grad.shape[1]) is { } refusal)
                        {
                            grad.Dispose(); sample.Dispose();
                            throw Rejected(StatusCode.ResourceExhausted, refusal);
                        }
                        // The sample frees its graph and the gradient even when the backward pass throws.
                        Tensor inputGrad;
                        try
                        {
                            inputGrad = await _state.Worker.RunAsync(tenant, () => training.Backward(sample, grad));
                        }
                        catch { grad.Dispose(); sample.Dispose(); throw; } // a turn that never ran (freeing twice is harmless)
                        using (inputGrad)
                            await replies.WriteAsync(new TrainReply { Backward = new TrainBackwardResult { SampleId = b.SampleId, Gradient = HiddenBlocks.EncodeReply(inputGrad, b.Gradient.Dtype) } });
                        break;
                    }
                    case TrainRequest.KindOneofCase.Step:
                    {
                        var (steps, samples) = await _state.Worker.RunAsync(tenant, () =>
                        {
                            if (training.PendingSamples == 0) throw Invalid("no sample gradients to apply");
                            var step = training.Step();
                            _state.Adapters.Save(tenant, adapterId);
                            return step;
                        });
                        _state.Metrics.TrainStep();
                        await replies.WriteAsync(new TrainReply { Stepped = new TrainStepped { Step = (ulong)steps, Samples = (uint)samples } });
                        break;
                    }
                    default:
                        throw Invalid($"unexpected {request.KindCase} inside a training stream");
                }
                stream.LastActiveTicks = Environment.TickCount64; // idle means the client's silence, not the endpoint's work
            }
        }
        catch (OperationCanceledException) when (stream.Expiry.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.DeadlineExceeded,
                $"training stream ended after {_state.Options.TrainingIdleTimeout.TotalSeconds:F0} s idle; its {pending.Count} samples awaiting a backward pass were dropped; open a new stream"));
        }
        finally
        {
            _state.Trainings.Close(stream);
            foreach (var sample in pending.Values) sample.Dispose();
        }
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
