using Grpc.Core;
using Grpc.Core.Interceptors;

namespace NoirCode.Endpoint;

/// <summary>Maps the caller's API key ("authorization: Bearer KEY") to a tenant, or refuses the call.</summary>
public sealed class AuthInterceptor(ApiKeys keys, EndpointMetrics metrics) : Interceptor
{
    public const string TenantKey = "noir-tenant";

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authenticate(context);
        return continuation(requestStream, responseStream, context);
    }

    void Authenticate(ServerCallContext context)
    {
        string? header = context.RequestHeaders.GetValue("authorization");
        string? key = header != null && header.StartsWith("Bearer ", StringComparison.Ordinal) ? header["Bearer ".Length..].Trim() : null;
        string? tenant = keys.TenantFor(key);
        if (tenant == null)
        {
            metrics.Rejected();
            throw new RpcException(new Status(StatusCode.Unauthenticated, key == null ? "missing API key (authorization: Bearer KEY)" : "unknown API key"));
        }
        context.UserState[TenantKey] = tenant;
    }
}
