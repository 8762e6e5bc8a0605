using Grpc.Core;
using NoirCode.Privacy.Egress;
using NoirCode.Protocol;
using static TorchSharp.torch;

namespace NoirCode.Remote;

/// <summary>
/// STuning's link to the endpoint: sends a sample's encoder output and gets the middle's output back; sends the
/// gradient at that output and gets the gradient at the encoder output back; asks the endpoint to apply the
/// averaged LoRA update. Hidden states and gradients both pass the egress guard.
/// </summary>
public sealed class RemoteTrainingSession : IDisposable
{
    readonly EndpointConnection _connection;
    readonly AsyncDuplexStreamingCall<TrainRequest, TrainReply> _call;
    readonly EgressGuard _guard;
    readonly EndpointClientOptions _options;
    readonly int _hidden;

    public long StepsSoFar { get; }
    /// <summary>The endpoint adapter this session trains (recorded in the tuned shard's binding).</summary>
    public string AdapterId => _options.AdapterId;

    /// <summary>Each middle output as it arrives (sample id, [1, T, D]): what the endpoint computed and knows, so
    /// the attack harness can stand in the endpoint's place. Handlers must not keep the tensor (copy it).</summary>
    public event Action<ulong, Tensor>? MiddleReceived;
    /// <summary>After each update the endpoint applied (its step count): the step boundaries the endpoint sees.</summary>
    public event Action<long>? Stepped;

    public RemoteTrainingSession(EndpointClientOptions options, EgressGuard guard, string modelFingerprint, int hiddenSize, double learningRate = 0)
    {
        _options = options; _guard = guard; _hidden = hiddenSize;
        _connection = new EndpointConnection(options.Endpoints[0], options);
        _call = _connection.Client.Train(_connection.Headers());
        Send(new TrainRequest { Open = new TrainOpen { ModelFingerprint = modelFingerprint, LearningRate = (float)learningRate, AdapterId = options.AdapterId } });
        StepsSoFar = (long)Receive(TrainReply.KindOneofCase.Opened).Opened.StepsSoFar;
    }

    /// <summary>encoder output [1, T, D] → middle output [1, T, D] (float32)</summary>
    public Tensor Forward(ulong sampleId, Tensor encoderOutput)
    {
        var packet = _guard.Admit(encoderOutput, EgressKind.HiddenStates, 0);
        Send(new TrainRequest { Forward = new TrainForward { SampleId = sampleId, Hidden = packet.ToHiddenBlock() } });
        var reply = Receive(TrainReply.KindOneofCase.Forward).Forward;
        var middle = HiddenBlocks.Decode(reply.Hidden, _hidden, packet.Tokens);
        MiddleReceived?.Invoke(sampleId, middle);
        return middle;
    }

    /// <summary>dLoss/d(middle output) → dLoss/d(encoder output)</summary>
    public Tensor Backward(ulong sampleId, Tensor outputGradient)
    {
        var packet = _guard.Admit(outputGradient, EgressKind.BoundaryGradient, 0);
        Send(new TrainRequest { Backward = new TrainBackward { SampleId = sampleId, Gradient = packet.ToHiddenBlock() } });
        var reply = Receive(TrainReply.KindOneofCase.Backward).Backward;
        return HiddenBlocks.Decode(reply.Gradient, _hidden, packet.Tokens);
    }

    /// <returns>the adapter's step count after this step</returns>
    public long Step()
    {
        Send(new TrainRequest { Step = new TrainStep() });
        long step = (long)Receive(TrainReply.KindOneofCase.Stepped).Stepped.Step;
        Stepped?.Invoke(step);
        return step;
    }

    void Send(TrainRequest request)
    {
        try
        {
            using var timeout = new CancellationTokenSource(_options.StepTimeout);
            _call.WriteOrStatusAsync(request, timeout.Token).GetAwaiter().GetResult();
        }
        catch (RpcException e) { throw Refused(e); }
    }

    TrainReply Receive(TrainReply.KindOneofCase expected)
    {
        try
        {
            using var timeout = new CancellationTokenSource(_options.StepTimeout);
            if (!_call.ResponseStream.MoveNext(timeout.Token).GetAwaiter().GetResult()) throw new IOException("the endpoint closed the training stream");
            var reply = _call.ResponseStream.Current;
            return reply.KindCase == expected ? reply : throw new EndpointRequestException($"expected {expected}, got {reply.KindCase}");
        }
        catch (RpcException e) { throw Refused(e); }
    }

    static Exception Refused(RpcException e) => EndpointConnection.IsTransient(e)
        ? new EndpointUnavailableException($"the training stream broke ({e.StatusCode}): {e.Status.Detail}", e)
        : new EndpointRequestException($"the endpoint refused the request ({e.StatusCode}): {e.Status.Detail}", e);

    public void Dispose()
    {
        try { _call.RequestStream.CompleteAsync().Wait(TimeSpan.FromSeconds(2)); } catch (Exception) { }
        _call.Dispose();
        _connection.Dispose();
    }
}
