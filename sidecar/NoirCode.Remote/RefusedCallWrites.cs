using Grpc.Core;

namespace NoirCode.Remote;

/// <summary>
/// A write to a streaming call that says why when the endpoint has refused the call: a server that refuses it (e.g.
/// Unauthenticated) can end it before the first write lands, and the write then fails with a transport error that
/// hides the server's own answer, which is the call's status.
/// </summary>
internal static class RefusedCallWrites
{
    public static async Task WriteOrStatusAsync<TRequest, TReply>(this AsyncDuplexStreamingCall<TRequest, TReply> call, TRequest request, CancellationToken cancel)
    {
        try { await call.RequestStream.WriteAsync(request, cancel).ConfigureAwait(false); }
        catch (Exception e) when (e is not RpcException)
        {
            if (await EndedWithAsync(call).ConfigureAwait(false) is { } status) throw new RpcException(status, e.Message);
            throw;
        }
    }

    static async Task<Status?> EndedWithAsync<TRequest, TReply>(AsyncDuplexStreamingCall<TRequest, TReply> call)
    {
        try { await call.ResponseHeadersAsync.WaitAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false); } catch (Exception) { /* the status below says why */ }
        try { return call.GetStatus(); } catch (InvalidOperationException) { return null; }
    }
}
