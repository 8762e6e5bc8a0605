using Grpc.Core;
using Microsoft.Extensions.Logging;
using NoirCode.Protocol;
using TorchSharp;
using static TorchSharp.torch;

namespace NoirCode.Endpoint;

/// <summary>
/// STuning's training stream (NOIR §7): forward passes through the middle blocks with the tenant's adapter, the
/// client's boundary gradients back through them, and optimiser steps. The handler decodes, checks limits and replies;
/// the adapter's compute is <see cref="TenantAdapter"/>, run on the model worker.
/// </summary>
public sealed partial class SplitInferenceService
{
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
            await foreach (var request in Arrivals(requests, tenant, () => stream.LastActiveTicks = Environment.TickCount64, cancel.Token))
            {
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
}
