using Grpc.Core;
using NoirCode.Core.Generation;
using NoirCode.Privacy.Egress;
using NoirCode.Protocol;
using static TorchSharp.torch;

namespace NoirCode.Remote;

/// <summary>The endpoint refused a request for a reason retrying will not fix (bad input, wrong model, no access).</summary>
public sealed class EndpointRequestException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>No endpoint could be reached within the attempts allowed.</summary>
public sealed class EndpointUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The middle blocks on a remote endpoint, as one gRPC session. Every hidden state passes the egress guard
/// first. The session keeps what it has sent (its input history, as Petals does): when the stream breaks or the
/// endpoint dies, it reconnects (to the next endpoint in the list, with backoff), replays the history to
/// rebuild the endpoint's KV cache, and resends the request, so the caller sees the same result as an
/// uninterrupted run. A packet sent to an endpoint that has not received it before (a replay after failover, or a
/// request resent there) crosses the wire again and is charged again, the budget checked first
/// (<see cref="EgressGuard.AdmitResend"/>); a replay to the endpoint that already has it is not.
/// </summary>
public sealed class RemoteMiddleSession : IMiddleSession
{
    readonly EndpointClientOptions _options;
    readonly EgressGuard _guard;
    readonly string _fingerprint;
    readonly int _maxLength, _hidden;
    /// <summary>A packet kept for replay, and the endpoints it has been charged for.</summary>
    sealed record Sent(EgressPacket Packet, HashSet<Uri> ChargedFor);
    readonly List<Sent> _history = new();
    EndpointConnection? _connection;
    AsyncDuplexStreamingCall<SessionRequest, SessionReply>? _call;
    int _endpoint;

    /// <summary>The endpoints this session may use, in failover order.</summary>
    public IReadOnlyList<Uri> Endpoints => _options.Endpoints;
    /// <summary>Times the session had to be rebuilt on a fresh stream.</summary>
    public int Reconnects { get; private set; }
    /// <summary>The endpoint this session last reached.</summary>
    public Uri? LastEndpoint { get; private set; }
    /// <summary>The last request: tokens, bytes sent, bytes received, milliseconds.</summary>
    public (long Tokens, long BytesUp, long BytesDown, double Milliseconds) Last { get; private set; }
    /// <summary>All requests of this session (replays not counted).</summary>
    public (long Tokens, long BytesUp, long BytesDown) Total { get; private set; }
    /// <summary>Tokens sent again to an endpoint that had not received them (failover replays), and charged.</summary>
    public long ResentTokens { get; private set; }

    public RemoteMiddleSession(EndpointClientOptions options, EgressGuard guard, string modelFingerprint, int maxLength, int hiddenSize)
    {
        if (options.Endpoints.Count == 0) throw new ArgumentException("give at least one endpoint");
        HiddenBlocks.FromWire(options.ReplyDtype); // an unknown reply dtype is refused here, not sent as another
        _options = options; _guard = guard; _fingerprint = modelFingerprint; _maxLength = maxLength; _hidden = hiddenSize;
    }

    long HistoryLength => _history.Count == 0 ? 0 : _history[^1].Packet.StartPosition + _history[^1].Packet.Tokens;
    Uri Target => _options.Endpoints[_endpoint];

    public Tensor Forward(Tensor hidden, Tensor positions)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long start = positions[0].item<long>();
        if (start > HistoryLength) throw new ArgumentException($"position {start} skips past the {HistoryLength} positions sent so far");
        var packet = _guard.Admit(hidden, EgressKind.HiddenStates, start);
        var sent = new Sent(packet, new HashSet<Uri> { Target });
        TrimHistory(start);
        var reply = WithRecovery(() => SendForward(sent));
        _history.Add(sent);
        var block = reply.Hidden;
        var result = HiddenBlocks.Decode(block, _hidden, packet.Tokens);
        if ((long)reply.StartPosition != start || result.shape[1] != packet.Tokens)
        {
            result.Dispose();
            throw new EndpointRequestException("the endpoint answered for other positions than it was asked");
        }
        Last = (packet.Tokens, packet.Payload.LongLength, block.Data.Length + block.Scales.Length, clock.Elapsed.TotalMilliseconds);
        Total = (Total.Tokens + Last.Tokens, Total.BytesUp + Last.BytesUp, Total.BytesDown + Last.BytesDown);
        return result.to(hidden.dtype);
    }

    /// <summary>
    /// Forgets positions from <paramref name="length"/> on. Nothing is sent now: the endpoint rolls a session back to
    /// the start position of the next forward step, so a truncation (an edit, rejected speculative drafts) costs no
    /// round trip of its own.
    /// </summary>
    public void Truncate(long length)
    {
        if (length > HistoryLength) throw new ArgumentOutOfRangeException(nameof(length), $"cannot truncate {HistoryLength} positions to {length}");
        TrimHistory(length);
    }

    /// <summary>Keeps the packets for positions [0, length), cutting the last one if it straddles.</summary>
    void TrimHistory(long length)
    {
        while (_history.Count > 0 && _history[^1].Packet.StartPosition >= length) _history.RemoveAt(_history.Count - 1);
        if (_history.Count > 0 && HistoryLength > length)
        {
            var last = _history[^1].Packet;
            long keep = length - last.StartPosition;
            using var full = HiddenStateCodec.Decode(last.Payload, last.Dtype, last.Tokens, last.HiddenSize);
            using var kept = full.narrow(1, 0, keep);
            _history[^1] = _history[^1] with { Packet = last with { Tokens = keep, Payload = HiddenStateCodec.Encode(kept, last.Dtype) } };
        }
    }

    ForwardResult SendForward(Sent sent)
    {
        ChargeResends(new[] { sent });
        var packet = sent.Packet;
        Send(new SessionRequest { Forward = new ForwardStep { StartPosition = (ulong)packet.StartPosition, Hidden = HiddenBlocks.FromPacket(packet) } });
        return Receive(SessionReply.KindOneofCase.Forward).Forward;
    }

    T WithRecovery<T>(Func<T> request)
    {
        var backoff = _options.InitialBackoff;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                EnsureConnected();
                return request();
            }
            catch (Exception e) when (EndpointConnection.IsTransient(e))
            {
                Disconnect();
                if (attempt >= _options.MaxAttempts)
                    throw new EndpointUnavailableException($"no endpoint answered after {attempt} attempts ({string.Join(", ", _options.Endpoints)}): {Describe(e)}", e);
                _endpoint = (_endpoint + 1) % _options.Endpoints.Count;
                Thread.Sleep(backoff);
                backoff = TimeSpan.FromTicks(Math.Min(_options.MaxBackoff.Ticks, backoff.Ticks * 2));
            }
            catch (RpcException e)
            {
                Disconnect();
                throw new EndpointRequestException($"the endpoint refused the request ({e.StatusCode}): {e.Status.Detail}", e);
            }
        }
    }

    /// <summary>Charges the packets not yet charged for the endpoint they now go to, all at once and budget first.</summary>
    void ChargeResends(IReadOnlyList<Sent> packets)
    {
        var uncharged = packets.Where(s => !s.ChargedFor.Contains(Target)).ToList();
        if (uncharged.Count == 0) return;
        _guard.AdmitResend(uncharged.Select(s => s.Packet).ToList());
        foreach (var s in uncharged) s.ChargedFor.Add(Target);
        ResentTokens += uncharged.Sum(s => s.Packet.Tokens);
    }

    void EnsureConnected()
    {
        if (_call != null) return;
        bool rebuilding = _connection != null || _history.Count > 0;
        // Before connecting: a replay the budget cannot cover is refused without anything sent.
        ChargeResends(_history);
        _connection = new EndpointConnection(Target, _options);
        LastEndpoint = _connection.Address;
        _call = _connection.Client.Session(_connection.Headers());
        Send(new SessionRequest { Open = new OpenSession { ModelFingerprint = _fingerprint, MaxLength = (uint)_maxLength, ReplyDtype = HiddenBlocks.FromWire(_options.ReplyDtype), AdapterId = _options.AdapterId } });
        var opened = Receive(SessionReply.KindOneofCase.Opened).Opened;
        if (opened.HiddenSize != _hidden) throw new EndpointRequestException($"the endpoint's model has hidden size {opened.HiddenSize}, this client's {_hidden}");
        foreach (var sent in _history) SendForward(sent); // rebuild the endpoint's KV cache
        if (rebuilding) Reconnects++;
    }

    void Send(SessionRequest request)
    {
        using var timeout = new CancellationTokenSource(_options.StepTimeout);
        _call!.RequestStream.WriteAsync(request, timeout.Token).GetAwaiter().GetResult();
    }

    SessionReply Receive(SessionReply.KindOneofCase expected)
    {
        using var timeout = new CancellationTokenSource(_options.StepTimeout);
        if (!_call!.ResponseStream.MoveNext(timeout.Token).GetAwaiter().GetResult())
            throw new IOException("the endpoint closed the session");
        var reply = _call.ResponseStream.Current;
        if (reply.KindCase != expected) throw new EndpointRequestException($"expected {expected} from the endpoint, got {reply.KindCase}");
        return reply;
    }

    void Disconnect()
    {
        try { _call?.Dispose(); } catch { /* already broken */ }
        _connection?.Dispose();
        _call = null;
    }

    static string Describe(Exception e) => e is RpcException r ? $"{r.StatusCode}: {r.Status.Detail}" : e.Message;

    public void Dispose()
    {
        if (_call != null)
        {
            try
            {
                Send(new SessionRequest { Close = new CloseSession() });
                _call.RequestStream.CompleteAsync().Wait(TimeSpan.FromSeconds(2));
            }
            catch (Exception e) when (EndpointConnection.IsTransient(e) || e is RpcException or AggregateException) { }
        }
        Disconnect();
        _connection = null;
    }
}
