using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using NoirCode.Protocol;

namespace NoirCode.Testing.Fuzzing;

/// <summary>
/// Malformed requests to a real endpoint: session and training streams with bad shapes, NaN and infinite values,
/// huge sizes and positions, unknown enum values, messages in the wrong order, and raw HTTP/2 requests with
/// truncated or garbage gRPC frames. Every request must end with a clear status (never Internal/Unknown, which
/// mean an unhandled exception on the server) within the time limit, and the process must stay up.
/// It never completes a training step, so the tenant's adapter (and hence the endpoint's answers) stay unchanged.
/// </summary>
public sealed class GrpcFuzzer : IDisposable
{
    const string SessionPath = "/noir.split.v1.SplitInference/Session";
    readonly Uri _address;
    readonly string _fingerprint;
    readonly int _hidden, _maxPositions;
    readonly GrpcChannel _channel;
    readonly SplitInference.SplitInferenceClient _client;
    readonly HttpClient _http;
    public TimeSpan CaseTimeout { get; init; } = TimeSpan.FromSeconds(20);
    /// <summary>Only these cases (by name); null: all of them.</summary>
    public IReadOnlyCollection<string>? OnlyCases { get; init; }

    public GrpcFuzzer(Uri address, string fingerprint, int hidden, int maxPositions)
    {
        _address = address; _fingerprint = fingerprint; _hidden = hidden; _maxPositions = maxPositions;
        _channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { MaxSendMessageSize = 64 << 20, MaxReceiveMessageSize = 64 << 20 });
        _client = new SplitInference.SplitInferenceClient(_channel);
        _http = new HttpClient(new SocketsHttpHandler { EnableMultipleHttp2Connections = true })
        {
            DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact, Timeout = TimeSpan.FromSeconds(30),
        };
    }

    /// <param name="alive">whether the endpoint process is still running (checked after every batch)</param>
    public async Task<FuzzReport> RunAsync(int count, int seed, Func<bool> alive, int parallel = 8, Action<int>? progress = null)
    {
        var report = new FuzzReport();
        int next = 0;
        async Task Worker()
        {
            while (true)
            {
                int i = Interlocked.Increment(ref next) - 1;
                if (i >= count || report.Crashed) return;
                var rng = new Random(seed * 100_003 + i);
                int kind = rng.Next(Cases.Length);
                if (OnlyCases != null && !OnlyCases.Contains(CaseNames[kind])) kind = Array.IndexOf(CaseNames, OnlyCases.ElementAt(rng.Next(OnlyCases.Count)));
                using var timeout = new CancellationTokenSource(CaseTimeout);
                try
                {
                    string outcome = await Cases[kind](this, rng, timeout.Token).WaitAsync(CaseTimeout + TimeSpan.FromSeconds(5));
                    report.Count(outcome);
                    if (outcome is "Internal" or "Unknown") report.Find($"case {CaseNames[kind]} #{i} ended with {outcome}");
                    if (outcome == "DeadlineExceeded" && timeout.IsCancellationRequested) { Interlocked.Increment(ref report.Hangs); report.Find($"case {CaseNames[kind]} #{i} hung"); }
                }
                catch (TimeoutException) { Interlocked.Increment(ref report.Hangs); report.Find($"case {CaseNames[kind]} #{i} hung"); }
                catch (Exception e) { report.Count("client:" + e.GetType().Name); }
                int sent = Interlocked.Increment(ref report.Sent);
                if (sent % 500 == 0)
                {
                    progress?.Invoke(sent);
                    if (!alive()) report.Crashed = true;
                }
            }
        }
        await Task.WhenAll(Enumerable.Range(0, parallel).Select(_ => Task.Run(Worker)));
        if (!alive()) report.Crashed = true;
        return report;
    }

    // ---- the cases ------------------------------------------------------------------------------------------

    delegate Task<string> Case(GrpcFuzzer f, Random rng, CancellationToken cancel);

    static readonly (string Name, Case Run)[] All =
    {
        ("no-open-first", (f, r, c) => f.Session(c, r.Next(3) switch { 0 => f.Forward(0, f.Block(r, 1)), 1 => Truncate(0), _ => new SessionRequest { Close = new CloseSession() } })),
        ("empty-request", (f, r, c) => f.Session(c, new SessionRequest())),
        ("bad-open", (f, r, c) => f.Session(c, f.BadOpen(r))),
        ("bad-block", (f, r, c) => f.Session(c, f.Open(64), f.Forward(0, f.BadBlock(r)))),
        ("bad-position", (f, r, c) => f.Session(c, f.Open(64), f.Forward(0, f.Block(r, 2)), f.Forward(r.Next(3) switch { 0 => ulong.MaxValue, 1 => (ulong)r.Next(3, 1000), _ => 63 }, f.Block(r, r.Next(1, 4))))),
        ("bad-truncate", (f, r, c) => f.Session(c, f.Open(64), f.Forward(0, f.Block(r, 3)), Truncate(r.Next(2) == 0 ? ulong.MaxValue : (ulong)r.Next(4, 100)))),
        ("wrong-order", (f, r, c) => f.Session(c, f.Open(64), f.Open(64), f.Forward(0, f.Block(r, 1)))),
        ("after-close", (f, r, c) => f.Session(c, f.Open(64), new SessionRequest { Close = new CloseSession() }, f.Forward(0, f.Block(r, 1)))),
        ("non-finite", (f, r, c) => f.Session(c, f.Open(64), f.Forward(0, f.NonFinite(r)))),
        ("huge-finite", (f, r, c) => f.Session(c, f.Open(64), f.Forward(0, f.Filled(r.Next(1, 5), r.Next(2) == 0 ? 3e38f : -1e30f)), f.Forward(0, f.Block(r, 1)))),
        ("many-small-steps", (f, r, c) => f.Session(c, new[] { f.Open(16) }.Concat(Enumerable.Range(0, 6).Select(i => f.Forward((ulong)i, f.Block(r, 1)))).ToArray())),
        ("oversized-message", (f, r, c) => r.Next(40) == 0 ? f.Session(c, f.Open(64), f.Forward(0, f.Oversized()))
            : f.Session(c, f.Open((uint)f._maxPositions), f.Forward(0, f.Block(r, r.Next(8) == 0 ? f._maxPositions : r.Next(1, 64))))),
        ("train-bad", (f, r, c) => f.Train(c, f.BadTrain(r))),
        ("raw-truncated-frame", (f, r, c) => f.Raw(r, truncated: true, c)),
        ("raw-garbage-frame", (f, r, c) => f.Raw(r, truncated: false, c)),
    };
    static readonly Case[] Cases = All.Select(a => a.Run).ToArray();
    static readonly string[] CaseNames = All.Select(a => a.Name).ToArray();
    public static IReadOnlyList<string> Names => CaseNames;

    SessionRequest Open(uint maxLength) => new() { Open = new OpenSession { ModelFingerprint = _fingerprint, MaxLength = maxLength, ReplyDtype = WireDtype.Float16 } };
    SessionRequest Forward(ulong start, HiddenBlock block) => new() { Forward = new ForwardStep { StartPosition = start, Hidden = block } };
    static SessionRequest Truncate(ulong length) => new() { Truncate = new TruncateSession { Length = length } };

    HiddenBlock Block(Random r, int tokens, WireDtype dtype = WireDtype.Float32)
    {
        var values = new float[tokens * _hidden];
        for (int i = 0; i < values.Length; i++) values[i] = (float)(r.NextDouble() * 2 - 1);
        return Encode(values, tokens, dtype);
    }

    HiddenBlock Filled(int tokens, float value) => Encode(Enumerable.Repeat(value, tokens * _hidden).ToArray(), tokens, WireDtype.Float32);

    HiddenBlock Encode(float[] values, int tokens, WireDtype dtype)
    {
        var bytes = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        if (dtype == WireDtype.Float16)
            bytes = values.SelectMany(v => BitConverter.GetBytes((Half)v)).ToArray();
        return new HiddenBlock { Dtype = dtype, Tokens = (uint)tokens, Hidden = (uint)_hidden, Data = ByteString.CopyFrom(bytes) };
    }

    HiddenBlock NonFinite(Random r)
    {
        int tokens = r.Next(1, 4);
        var values = new float[tokens * _hidden];
        values[r.Next(values.Length)] = r.Next(3) switch { 0 => float.NaN, 1 => float.PositiveInfinity, _ => float.NegativeInfinity };
        var dtype = r.Next(3) switch { 0 => WireDtype.Float32, 1 => WireDtype.Float16, _ => WireDtype.Int8Blockwise };
        if (dtype != WireDtype.Int8Blockwise) return Encode(values, tokens, dtype);
        // int8: the NaN hides in a block's scale
        var scales = Enumerable.Repeat(1f, (values.Length + 63) / 64).ToArray();
        scales[r.Next(scales.Length)] = float.NaN;
        return new HiddenBlock
        {
            Dtype = dtype, Tokens = (uint)tokens, Hidden = (uint)_hidden, Data = ByteString.CopyFrom(new byte[values.Length]),
            Scales = ByteString.CopyFrom(scales.SelectMany(BitConverter.GetBytes).ToArray()),
        };
    }

    HiddenBlock BadBlock(Random r)
    {
        var b = Block(r, r.Next(1, 4));
        switch (r.Next(10))
        {
            case 0: b.Hidden = (uint)r.Next(0, 2 * _hidden + 2); if (b.Hidden == _hidden) b.Hidden++; break;
            case 1: b.Tokens = 0; break;
            case 2: b.Tokens = uint.MaxValue; break;
            case 3: b.Tokens += (uint)r.Next(1, 5); break;                                      // data too short for the count
            case 4: b.Data = ByteString.CopyFrom(b.Data.Span[..r.Next(0, b.Data.Length)]); break;              // truncated data
            case 5: b.Dtype = (WireDtype)r.Next(4, 1000); break;                                 // unknown dtype
            case 6: b.Dtype = WireDtype.Int8Blockwise; break;                                    // scales missing
            case 7: b.Scales = ByteString.CopyFrom(new byte[r.Next(1, 64)]); break;              // scales on a float block
            case 8: b.Hidden = uint.MaxValue; b.Tokens = uint.MaxValue; break;                   // overflowing sizes
            default: return null!;                                                               // no block at all
        }
        return b;
    }

    SessionRequest BadOpen(Random r) => r.Next(5) switch
    {
        0 => new() { Open = new OpenSession { ModelFingerprint = "sha256:" + new string('0', r.Next(0, 70)), MaxLength = 64 } },
        1 => new() { Open = new OpenSession { ModelFingerprint = _fingerprint, MaxLength = 0 } },
        2 => new() { Open = new OpenSession { ModelFingerprint = _fingerprint, MaxLength = r.Next(2) == 0 ? uint.MaxValue : (uint)_maxPositions + 1 } },
        3 => new() { Open = new OpenSession { ModelFingerprint = _fingerprint, MaxLength = 8, ReplyDtype = (WireDtype)r.Next(4, int.MaxValue) } },
        _ => new() { Open = new OpenSession { ModelFingerprint = new string('\u00e9', r.Next(1, 5000)), MaxLength = 8 } },
    };

    HiddenBlock Oversized() => new() { Dtype = WireDtype.Float32, Tokens = 1, Hidden = (uint)_hidden, Data = ByteString.CopyFrom(new byte[33 << 20]) };

    TrainRequest[] BadTrain(Random r)
    {
        var open = new TrainRequest { Open = new TrainOpen { ModelFingerprint = _fingerprint, LearningRate = r.Next(3) == 0 ? float.NaN : 0 } };
        var forward = new TrainRequest { Forward = new TrainForward { SampleId = 1, Hidden = Block(r, r.Next(1, 6)) } };
        return r.Next(8) switch
        {
            0 => new[] { forward },                                                                       // no open
            1 => new[] { new TrainRequest { Open = new TrainOpen { ModelFingerprint = "nope" } } },
            2 => new[] { open, new TrainRequest { Step = new TrainStep() } },                               // step before any sample
            3 => new[] { open, new TrainRequest { Backward = new TrainBackward { SampleId = 9, Gradient = Block(r, 2) } } }, // backward without forward
            4 => new[] { open, forward, forward },                                                          // the same sample twice
            5 => new[] { open, forward, new TrainRequest { Backward = new TrainBackward { SampleId = 1, Gradient = NonFinite(r) } } },
            6 => new[] { open, forward, new TrainRequest { Backward = new TrainBackward { SampleId = 1, Gradient = Block(r, (int)forward.Forward.Hidden.Tokens + 1) } } },
            _ => new[] { open, new TrainRequest { Forward = new TrainForward { SampleId = 2, Hidden = BadBlock(r) } } },
        };
    }

    // ---- running a case ---------------------------------------------------------------------------------------

    async Task<string> Session(CancellationToken cancel, params SessionRequest[] messages)
    {
        using var call = _client.Session(cancellationToken: cancel);
        return await Exchange(call.RequestStream, call.ResponseStream, messages, cancel);
    }

    async Task<string> Train(CancellationToken cancel, TrainRequest[] messages)
    {
        using var call = _client.Train(cancellationToken: cancel);
        return await Exchange(call.RequestStream, call.ResponseStream, messages, cancel);
    }

    /// <summary>Sends the messages (stopping when the server has ended the call), then reads to the end: the call's status.</summary>
    static async Task<string> Exchange<TReq, TRep>(IClientStreamWriter<TReq> requests, IAsyncStreamReader<TRep> replies, TReq[] messages, CancellationToken cancel)
    {
        var reading = Task.Run(async () => { while (await replies.MoveNext(cancel)) { } }, CancellationToken.None);
        try
        {
            foreach (var m in messages)
            {
                if (reading.IsCompleted) break;
                await requests.WriteAsync(m, cancel);
            }
            if (!reading.IsCompleted) await requests.CompleteAsync();
        }
        catch (Exception e) when (e is RpcException or InvalidOperationException or IOException) { /* the server ended the call: its status tells why */ }
        catch (OperationCanceledException) { }
        try { await reading; return "OK"; }
        catch (RpcException e) when (e.StatusCode == StatusCode.Internal && e.Status.Detail.Contains("server closed the connection"))
        {
            // The client library's own status for a connection the server closed (Kestrel does so on an HTTP/2 protocol
            // error, e.g. a frame for a stream the client had just cancelled): no handler threw. Clients reconnect and replay.
            return "connection-closed";
        }
        catch (RpcException e) { return e.StatusCode.ToString(); }
    }

    /// <summary>A Session call written by hand: a gRPC frame cut short, or bytes that are not a SessionRequest.</summary>
    async Task<string> Raw(Random r, bool truncated, CancellationToken cancel)
    {
        byte[] body;
        if (truncated)
        {
            var message = Open(64).ToByteArray();
            int claimed = r.Next(3) == 0 ? int.MaxValue : message.Length + r.Next(1, 5000);
            int cut = r.Next(0, message.Length);
            body = new byte[] { 0 }.Concat(BigEndian(claimed)).Concat(message.Take(cut)).ToArray();
            if (r.Next(4) == 0) body = body.Take(r.Next(0, 5)).ToArray(); // cut inside the 5-byte prefix
        }
        else
        {
            var junk = new byte[r.Next(0, 2000)];
            r.NextBytes(junk);
            byte flag = (byte)(r.Next(4) == 0 ? 1 : 0); // "compressed" without a grpc-encoding
            body = new[] { flag }.Concat(BigEndian(junk.Length)).Concat(junk).ToArray();
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_address, r.Next(30) == 0 ? "/noir.split.v1.SplitInference/Nothing" : SessionPath))
        {
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TE.Add(new TransferCodingWithQualityHeaderValue("trailers"));
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel);
        await response.Content.ReadAsByteArrayAsync(cancel);
        string? status = response.TrailingHeaders.TryGetValues("grpc-status", out var t) ? t.First()
            : response.Headers.TryGetValues("grpc-status", out var h) ? h.First() : null;
        return status == null ? $"http:{(int)response.StatusCode}" : ((StatusCode)int.Parse(status)).ToString();
    }

    static byte[] BigEndian(int n) => new[] { (byte)(n >> 24), (byte)(n >> 16), (byte)(n >> 8), (byte)n };

    /// <summary>Sessions the endpoint still holds (its /metrics; /healthz is a bare status): after the run, every stream
    /// must have closed its session.</summary>
    public async Task<int> OpenSessionsAsync()
    {
        var metrics = await _http.GetStringAsync(new Uri(_address, "/metrics"));
        var m = System.Text.RegularExpressions.Regex.Match(metrics, @"^noir_sessions_active (\d+)", System.Text.RegularExpressions.RegexOptions.Multiline);
        return m.Success ? int.Parse(m.Groups[1].Value) : throw new InvalidOperationException("no noir_sessions_active in the endpoint's /metrics");
    }

    /// <summary>
    /// After the junk: a well-formed session through the real client gets, position by position, what the
    /// middle blocks compute in this process from the same input.
    /// </summary>
    public static bool AnswersCorrectly(Uri address, string fingerprint, NoirCode.Core.Split.CloudShard reference, out string detail)
    {
        using var _ = TorchSharp.torch.no_grad();
        int hidden = reference.Config.HiddenSize;
        var options = new NoirCode.Remote.EndpointClientOptions { Endpoints = new[] { address }, ReplyDtype = NoirCode.Protocol.WireDtype.Float32, MaxAttempts = 3 };
        using var remote = new NoirCode.Remote.RemoteMiddleSession(options, new NoirCode.Privacy.Egress.EgressGuard(hidden, NoirCode.Protocol.WireDtype.Float32), fingerprint, 64, hidden);
        using var local = new NoirCode.Core.Generation.LocalMiddleSession(reference);
        TorchSharp.torch.manual_seed(3);
        double worst = 0;
        foreach (var (start, length) in new[] { (0L, 8L), (8L, 1L), (9L, 1L) })
        {
            using var input = TorchSharp.torch.randn(new long[] { 1, length, hidden });
            using var positions = TorchSharp.torch.arange(start, start + length, TorchSharp.torch.ScalarType.Int64);
            using var got = remote.Forward(input, positions);
            using var want = local.Forward(input, positions);
            using var diff = (got - want).abs().max();
            worst = Math.Max(worst, diff.item<float>());
        }
        detail = $"largest difference from the in-process middle blocks {worst:E1}";
        return worst < 1e-3;
    }

    public void Dispose() { _channel.Dispose(); _http.Dispose(); }
}
