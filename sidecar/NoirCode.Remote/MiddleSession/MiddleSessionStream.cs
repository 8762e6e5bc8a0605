using Grpc.Core;
using NoirCode.Privacy.Egress;
using NoirCode.Protocol;

namespace NoirCode.Remote;

/// <summary>
/// One session stream on one endpoint (Petals' <c>_ServerInferenceSession</c>): open it, forward admitted packets
/// in order, close it. It knows nothing of failover, replay or charging: when the stream breaks it throws, and its
/// owner (<see cref="RemoteMiddleSession"/>, the policy) throws it away and opens another. Async throughout; it
/// takes only <see cref="EgressPacket"/>s, so nothing reaches the wire that the egress guard did not admit.
/// </summary>
sealed class MiddleSessionStream : IAsyncDisposable
{
    readonly EndpointConnection _connection;
    readonly AsyncDuplexStreamingCall<SessionRequest, SessionReply> _call;
    readonly TimeSpan _stepTimeout;

    public Uri Endpoint => _connection.Address;

    MiddleSessionStream(EndpointConnection connection, TimeSpan stepTimeout)
    {
        _connection = connection; _stepTimeout = stepTimeout;
        _call = connection.Client.Session(connection.Headers());
    }

    /// <summary>Opens a session on <paramref name="endpoint"/> and checks that its model has this client's hidden size.</summary>
    public static async Task<MiddleSessionStream> OpenAsync(Uri endpoint, EndpointClientOptions options, OpenSession open, int hiddenSize, CancellationToken cancel)
    {
        var stream = new MiddleSessionStream(new EndpointConnection(endpoint, options), options.StepTimeout);
        try
        {
            await stream.SendAsync(new SessionRequest { Open = open }, cancel).ConfigureAwait(false);
            var opened = (await stream.ReceiveAsync(SessionReply.KindOneofCase.Opened, cancel).ConfigureAwait(false)).Opened;
            if (opened.HiddenSize != hiddenSize) throw new EndpointRequestException($"the endpoint's model has hidden size {opened.HiddenSize}, this client's {hiddenSize}");
            return stream;
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Sends one admitted packet and waits for the middle's output for it.</summary>
    public async Task<ForwardResult> ForwardAsync(EgressPacket packet, CancellationToken cancel)
    {
        var step = new ForwardStep { StartPosition = (ulong)packet.StartPosition, Hidden = packet.ToHiddenBlock() };
        await SendAsync(new SessionRequest { Forward = step }, cancel).ConfigureAwait(false);
        return (await ReceiveAsync(SessionReply.KindOneofCase.Forward, cancel).ConfigureAwait(false)).Forward;
    }

    /// <summary>Ends the session politely; a stream that is already broken is simply dropped.</summary>
    public async Task CloseAsync()
    {
        try
        {
            await SendAsync(new SessionRequest { Close = new CloseSession() }, CancellationToken.None).ConfigureAwait(false);
            await _call.RequestStream.CompleteAsync().WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        catch (Exception e) when (EndpointConnection.IsTransient(e) || e is RpcException) { }
    }

    async Task SendAsync(SessionRequest request, CancellationToken cancel)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(_stepTimeout);
        await _call.WriteOrStatusAsync(request, timeout.Token).ConfigureAwait(false);
    }

    async Task<SessionReply> ReceiveAsync(SessionReply.KindOneofCase expected, CancellationToken cancel)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(_stepTimeout);
        if (!await _call.ResponseStream.MoveNext(timeout.Token).ConfigureAwait(false))
            throw new IOException("the endpoint closed the session");
        var reply = _call.ResponseStream.Current;
        if (reply.KindCase != expected) throw new EndpointRequestException($"expected {expected} from the endpoint, got {reply.KindCase}");
        return reply;
    }

    public ValueTask DisposeAsync()
    {
        try { _call.Dispose(); } catch { /* already broken */ }
        _connection.Dispose();
        return ValueTask.CompletedTask;
    }
}
