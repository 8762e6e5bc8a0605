using Grpc.Core;
using Grpc.Core.Interceptors;
using NoirCode.Protocol;

namespace NoirCode.Endpoint.Tests.Wire;

/// <summary>What the endpoint received, recorded inside the server (a gRPC interceptor on its request streams):
/// each forward step's start position and hidden-state block as it arrived.</summary>
public sealed class ReceivedBlocks : Interceptor
{
    readonly List<(ulong Start, HiddenBlock Block)> _blocks;

    public ReceivedBlocks(List<(ulong Start, HiddenBlock Block)> blocks) { _blocks = blocks; }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation) =>
        continuation(new Recording<TRequest>(requestStream, _blocks), responseStream, context);

    sealed class Recording<T>(IAsyncStreamReader<T> inner, List<(ulong Start, HiddenBlock Block)> blocks) : IAsyncStreamReader<T>
    {
        public T Current => inner.Current;

        public async Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            if (!await inner.MoveNext(cancellationToken)) return false;
            if (inner.Current is SessionRequest { KindCase: SessionRequest.KindOneofCase.Forward } request)
                lock (blocks) blocks.Add((request.Forward.StartPosition, request.Forward.Hidden.Clone()));
            return true;
        }
    }
}
