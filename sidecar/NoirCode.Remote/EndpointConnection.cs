using Grpc.Core;
using Grpc.Net.Client;
using NoirCode.Protocol;

namespace NoirCode.Remote;

/// <summary>A channel to one endpoint with the client's timeouts and credentials.</summary>
public sealed class EndpointConnection : IDisposable
{
    readonly GrpcChannel _channel;
    public Uri Address { get; }
    public SplitInference.SplitInferenceClient Client { get; }
    readonly string? _apiKey;

    public EndpointConnection(Uri address, EndpointClientOptions options)
    {
        EndpointClientOptions.CheckCleartext(address, options.AllowCleartext);
        Address = address;
        // Over cleartext to another machine (allowed explicitly) the key would be readable on the way: it is not sent.
        _apiKey = EndpointClientOptions.IsCleartextRemote(address) ? null : options.ApiKey;
        bool unixSocket = UnixSocketEndpoint.Is(address);
        var handler = unixSocket ? UnixSocketEndpoint.Handler(address, options.ConnectTimeout) : new SocketsHttpHandler { ConnectTimeout = options.ConnectTimeout };
        handler.KeepAlivePingDelay = TimeSpan.FromSeconds(30);
        handler.KeepAlivePingTimeout = TimeSpan.FromSeconds(10);
        handler.EnableMultipleHttp2Connections = true;
        _channel = GrpcChannel.ForAddress(unixSocket ? UnixSocketEndpoint.HttpAddress : address, new GrpcChannelOptions
        {
            HttpHandler = handler,
            MaxReceiveMessageSize = options.MaxMessageBytes,
            MaxSendMessageSize = options.MaxMessageBytes,
        });
        Client = new SplitInference.SplitInferenceClient(_channel);
    }

    public Metadata Headers()
    {
        var headers = new Metadata();
        if (_apiKey != null) headers.Add("authorization", "Bearer " + _apiKey);
        return headers;
    }

    public void Dispose() => _channel.Dispose();

    /// <summary>Failures worth another attempt (possibly elsewhere); the rest are the caller's mistake and final.</summary>
    public static bool IsTransient(Exception e) => e switch
    {
        RpcException r => r.StatusCode is StatusCode.Unavailable or StatusCode.Internal or StatusCode.Unknown
            or StatusCode.Cancelled or StatusCode.DeadlineExceeded or StatusCode.Aborted,
        IOException or HttpRequestException or TimeoutException or OperationCanceledException => true,
        _ => false,
    };
}
