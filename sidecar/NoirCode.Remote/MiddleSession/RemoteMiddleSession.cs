using Grpc.Core;
using NoirCode.Core.Generation;
using NoirCode.Privacy.Egress;
using NoirCode.Protocol;
using static TorchSharp.torch;

namespace NoirCode.Remote;

/// <summary>
/// The middle blocks on remote endpoints: the failover and replay policy over <see cref="MiddleSessionStream"/>s
/// (Petals' <c>InferenceSession</c> over its <c>_ServerInferenceSession</c>). Every hidden state passes the egress
/// guard first. The session keeps what it has sent (its input history, as Petals does): when the stream breaks or
/// the endpoint dies, it opens a stream on the next endpoint in the list (with backoff), replays the history to
/// rebuild the endpoint's KV cache, and resends the request, so the caller sees the same result as an
/// uninterrupted run. A packet sent to an endpoint that has not received it before (a replay after failover, or a
/// request resent there) crosses the wire again and is charged again, the budget checked first
/// (<see cref="EgressGuard.AdmitResend"/>); a replay to the endpoint that already has it is not.
/// </summary>
/// <remarks>
/// The network side (streams, backoff, replay) is async and holds no tensors; the tensor side (admitting, decoding)
/// runs on the caller's thread, so the caller's TorchSharp dispose scope sees what it makes. The only blocking wait
/// is <see cref="Wait{T}"/>, where the synchronous <see cref="IMiddleSession"/> contract of Core's generator meets it.
/// </remarks>
public sealed class RemoteMiddleSession : IMiddleSession, IAsyncDisposable
{
    readonly EndpointClientOptions _options;
    readonly EgressGuard _guard;
    readonly string _fingerprint;
    readonly int _maxLength, _hidden;
    /// <summary>A packet kept for replay, and the endpoints it has been charged for.</summary>
    sealed record Sent(EgressPacket Packet, HashSet<Uri> ChargedFor);
    readonly List<Sent> _history = new();
    MiddleSessionStream? _stream;
    bool _everOpened;
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
        HiddenStateCodec.Known(options.ReplyDtype); // an unknown reply dtype is refused here, not sent as another
        _options = options; _guard = guard; _fingerprint = modelFingerprint; _maxLength = maxLength; _hidden = hiddenSize;
    }

    long HistoryLength => _history.Count == 0 ? 0 : _history[^1].Packet.StartPosition + _history[^1].Packet.Tokens;
    Uri Target => _options.Endpoints[_endpoint];

    public Tensor Forward(Tensor hidden, Tensor positions)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long start;
        using (var first = positions[0]) start = first.item<long>();
        if (start > HistoryLength) throw new ArgumentException($"position {start} skips past the {HistoryLength} positions sent so far");
        var packet = _guard.Admit(hidden, EgressKind.HiddenStates, start);
        TrimHistory(start);
        var reply = Wait(ForwardAsync(packet, CancellationToken.None));
        var block = reply.Hidden;
        var result = HiddenBlocks.Decode(block, _hidden, packet.Tokens);
        if ((long)reply.StartPosition != start || result.shape[1] != packet.Tokens)
        {
            result.Dispose();
            throw new EndpointRequestException("the endpoint answered for other positions than it was asked");
        }
        Last = (packet.Tokens, packet.Payload.Length, block.Data.Length + block.Scales.Length, clock.Elapsed.TotalMilliseconds);
        Total = (Total.Tokens + Last.Tokens, Total.BytesUp + Last.BytesUp, Total.BytesDown + Last.BytesDown);
        if (result.dtype == hidden.dtype) return result;
        using (result) return result.to(hidden.dtype);
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
            var last = _history[^1];
            _history[^1] = last with { Packet = last.Packet.Prefix(length - last.Packet.StartPosition) };
        }
    }

    /// <summary>Sends an admitted packet, recovering from broken streams, and adds it to the history.</summary>
    async Task<ForwardResult> ForwardAsync(EgressPacket packet, CancellationToken cancel)
    {
        var sent = new Sent(packet, new HashSet<Uri> { Target }); // Admit charged it for the current endpoint
        var reply = await WithRecoveryAsync(stream => SendAsync(stream, sent, cancel), cancel).ConfigureAwait(false);
        _history.Add(sent);
        return reply;
    }

    Task<ForwardResult> SendAsync(MiddleSessionStream stream, Sent sent, CancellationToken cancel)
    {
        ChargeResends(new[] { sent });
        return stream.ForwardAsync(sent.Packet, cancel);
    }

    async Task<T> WithRecoveryAsync<T>(Func<MiddleSessionStream, Task<T>> request, CancellationToken cancel)
    {
        var backoff = _options.InitialBackoff;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                var stream = await EnsureStreamAsync(cancel).ConfigureAwait(false);
                return await request(stream).ConfigureAwait(false);
            }
            catch (Exception e) when (EndpointConnection.IsTransient(e))
            {
                await DropStreamAsync().ConfigureAwait(false);
                if (attempt >= _options.MaxAttempts)
                    throw new EndpointUnavailableException($"no endpoint answered after {attempt} attempts ({string.Join(", ", _options.Endpoints)}): {Describe(e)}", e);
                _endpoint = (_endpoint + 1) % _options.Endpoints.Count;
                await Task.Delay(backoff, cancel).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(_options.MaxBackoff.Ticks, backoff.Ticks * 2));
            }
            catch (RpcException e)
            {
                await DropStreamAsync().ConfigureAwait(false);
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

    /// <summary>The open stream, or a new one on the current endpoint with the history replayed into it.</summary>
    async Task<MiddleSessionStream> EnsureStreamAsync(CancellationToken cancel)
    {
        if (_stream != null) return _stream;
        // Before connecting: a replay the budget cannot cover is refused without anything sent.
        ChargeResends(_history);
        var open = new OpenSession { ModelFingerprint = _fingerprint, MaxLength = (uint)_maxLength, ReplyDtype = _options.ReplyDtype, AdapterId = _options.AdapterId };
        var stream = await MiddleSessionStream.OpenAsync(Target, _options, open, _hidden, cancel).ConfigureAwait(false);
        _stream = stream;
        LastEndpoint = stream.Endpoint;
        bool rebuilding = _everOpened || _history.Count > 0;
        _everOpened = true;
        foreach (var sent in _history) await SendAsync(stream, sent, cancel).ConfigureAwait(false); // rebuild the endpoint's KV cache
        if (rebuilding) Reconnects++;
        return stream;
    }

    async Task DropStreamAsync()
    {
        var stream = _stream;
        _stream = null;
        if (stream != null) await stream.DisposeAsync().ConfigureAwait(false);
    }

    static string Describe(Exception e) => e is RpcException r ? $"{r.StatusCode}: {r.Status.Detail}" : e.Message;

    /// <summary>The one bridge from the synchronous <see cref="IMiddleSession"/> contract to the async network side.
    /// Safe from deadlock: everything it waits for continues on the thread pool (ConfigureAwait(false) throughout).</summary>
    static T Wait<T>(Task<T> task) => task.GetAwaiter().GetResult();
    static void Wait(Task task) => task.GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        if (_stream != null) await _stream.CloseAsync().ConfigureAwait(false);
        await DropStreamAsync().ConfigureAwait(false);
    }

    public void Dispose() => Wait(DisposeAsync().AsTask());
}
