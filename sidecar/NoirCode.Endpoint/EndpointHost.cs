using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace NoirCode.Endpoint;

/// <summary>
/// Runs the endpoint: gRPC (HTTP/2; cleartext only on loopback or a unix socket) plus /healthz (a bare status: it says nothing
/// about anyone's use) and /metrics (<see cref="MetricsAccess"/>). Binding to any other address requires TLS and an
/// --auth file.
/// </summary>
public sealed class EndpointHost : IAsyncDisposable
{
    readonly WebApplication _app;
    readonly EndpointState _state;
    readonly Timer _expiry;

    public Uri Address { get; }
    public EndpointState State => _state;

    EndpointHost(WebApplication app, EndpointState state, Uri address)
    {
        _app = app; _state = state; Address = address;
        double shortest = Math.Min(state.Options.IdleTimeout.TotalSeconds, state.Options.TrainingIdleTimeout.TotalSeconds);
        var period = TimeSpan.FromSeconds(Math.Clamp(shortest / 4, 0.25, 30));
        _expiry = new Timer(_ => { state.Sessions.ExpireIdle(); state.Trainings.ExpireIdle(); }, null, period, period);
    }

    public static void Validate(EndpointOptions o)
    {
        if (!IPAddress.TryParse(o.Host, out _) && o.Host != "localhost")
            throw new ArgumentException($"--host must be an IP address or localhost, not '{o.Host}'");
        bool tls = o.TlsCertificate != null || o.TlsKey != null;
        if (tls && (o.TlsCertificate == null || o.TlsKey == null)) throw new ArgumentException("TLS needs both --tls-cert and --tls-key");
        // The socket's file permissions are its protection; its clients (unix:/path) speak cleartext HTTP/2 to it.
        if (tls && o.UnixSocketPath != null) throw new ArgumentException("--unix-socket is local (like loopback) and takes no --tls-cert/--tls-key");
        if (o.PrefillChunkTokens < 1) throw new ArgumentException("--prefill-chunk must be at least 1 position");
        if (o.MaxTrainingStreamsPerTenant < 1) throw new ArgumentException("--max-training-streams-per-tenant must be at least 1");
        if (!(o.TokensPerSecondPerTenant > 0) || o.TokenBurstPerTenant is <= 0) throw new ArgumentException("--token-rate-limit and --token-burst must be positive");
        if (o.KvBytesPerTenant is < 0 || o.TrainingBytesPerTenant < 0) throw new ArgumentException("--kv-per-tenant-mb and --training-mb-per-tenant cannot be negative");
        if (o.TrainingIdleTimeout <= TimeSpan.Zero) throw new ArgumentException("--training-idle-timeout-s must be positive");
        if (!o.IsLocal && (!tls || !o.HasAuth))
            throw new ArgumentException($"binding to {o.Host} exposes the endpoint beyond this machine: it requires --tls-cert, --tls-key and --auth");
    }

    /// <param name="grpc">more gRPC service settings after the endpoint's own (tests add an interceptor that records
    /// what the endpoint received)</param>
    public static async Task<EndpointHost> StartAsync(EndpointOptions options, Action<ILoggingBuilder>? logging = null, Action<Grpc.AspNetCore.Server.GrpcServiceOptions>? grpc = null)
    {
        Validate(options);
        if (options.UnixSocketPath is { } socketPath) UnixSocketFile.Prepare(socketPath);
        var keys = options.AuthFile != null ? ApiKeys.Load(options.AuthFile)
            : options.AuthEnvironmentVariable is { } variable ? ApiKeys.FromEnvironment(variable)
            : ApiKeys.None;
        var metricsAccess = MetricsAccess.For(options);
        if (options.KvBytesPerTenant == null && keys.TenantCount > 1) options = options with { KvBytesPerTenant = options.KvBudgetBytes / 2 };
        var state = new EndpointState(options);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (logging != null) logging(builder.Logging);
        else
        {
            builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
            // The log goes to stderr: stdout carries only the "listening on" line that starters wait for, so a starter
            // that stops reading stdout after it can never block the endpoint with a full pipe.
            builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        }
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning).AddFilter("Grpc", LogLevel.Warning);
        X509Certificate2? certificate = options.TlsCertificate == null ? null : X509Certificate2.CreateFromPemFile(options.TlsCertificate, options.TlsKey);
        builder.WebHost.ConfigureKestrel(k =>
        {
            // A session is one long stream: limit each message (gRPC's MaxReceiveMessageSize), not the stream's total.
            k.Limits.MaxRequestBodySize = null;
            if (options.UnixSocketPath != null)
            {
                k.ListenUnixSocket(options.UnixSocketPath, listen => listen.Protocols = HttpProtocols.Http2);
                return;
            }
            var ip = options.Host == "localhost" ? IPAddress.Loopback : IPAddress.Parse(options.Host);
            k.Listen(ip, options.Port, listen =>
            {
                if (certificate != null) { listen.Protocols = HttpProtocols.Http1AndHttp2; listen.UseHttps(certificate); }
                else listen.Protocols = HttpProtocols.Http2; // cleartext HTTP/2 (h2c): gRPC clients speak it with prior knowledge
            });
        });
        builder.Services.AddSingleton(state);
        builder.Services.AddSingleton(keys);
        builder.Services.AddSingleton(state.Metrics);
        builder.Services.AddGrpc(g =>
        {
            g.MaxReceiveMessageSize = options.MaxMessageBytes;
            g.MaxSendMessageSize = options.MaxMessageBytes;
            g.Interceptors.Add<AuthInterceptor>();
            g.EnableDetailedErrors = false;
            grpc?.Invoke(g);
        });
        var app = builder.Build();
        app.MapGrpcService<SplitInferenceService>();
        app.MapGet("/healthz", () => Results.Json(new { status = "ok" }));
        app.MapGet("/metrics", (HttpRequest request) => metricsAccess.Refusal(request) is int refused
            ? Results.StatusCode(refused)
            : Results.Text(state.Metrics.Render(), "text/plain; version=0.0.4"));
        await app.StartAsync();
        if (options.UnixSocketPath is { } socket)
        {
            UnixSocketFile.Secure(socket);
            return new EndpointHost(app, state, new Uri("unix:" + socket)); // the form clients take (NoirCode.Remote.UnixSocketEndpoint)
        }
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var address = new Uri(bound.Replace("0.0.0.0", "127.0.0.1").Replace("[::]", "[::1]"));
        return new EndpointHost(app, state, address);
    }

    public Task WaitForShutdownAsync(CancellationToken cancel = default) => Microsoft.Extensions.Hosting.HostingAbstractionsHostExtensions.WaitForShutdownAsync(_app, cancel);

    public async ValueTask DisposeAsync()
    {
        await _expiry.DisposeAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (_state.Options.UnixSocketPath is { } socket) UnixSocketFile.Remove(socket);
        _state.Dispose();
    }
}
