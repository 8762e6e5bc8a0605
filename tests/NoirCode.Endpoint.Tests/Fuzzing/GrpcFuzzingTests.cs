using Grpc.Core;
using NoirCode.Testing.Fuzzing;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Protocol;

namespace NoirCode.Endpoint.Tests.Fuzzing;

/// <summary>
/// Malformed gRPC requests to a real `noir cloud serve` process (a short run; `scripts/bench fuzz-grpc` sends
/// 10,000), and one regression test per crash the fuzzing found.
/// </summary>
public class GrpcFuzzingTests
{
    [Test]
    public async Task AStartPositionNear2To64IsRefusedAsInvalid()
    {
        // Regression: the position wrapped to -1, slipped past the checks and failed inside the worker (Unknown).
        await using var host = await EndpointFixture.StartAsync();
        using var call = Clients.RawSession(host.Address);
        await Clients.ExchangeAsync(call, Clients.Open());
        var forward = Clients.Forward(0, 1, Clients.Client.Config.HiddenSize);
        forward.Forward.StartPosition = ulong.MaxValue;
        await call.RequestStream.WriteAsync(forward);
        var e = Assert.ThrowsAsync<RpcException>(async () => await call.ResponseStream.MoveNext())!;
        Assert.That(e.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(e.Status.Detail, Does.Contain("beyond this session's max_length"));
    }

    [Test]
    public async Task MalformedRequestsNeitherCrashNorHangAndTheEndpointStillAnswersCorrectly()
    {
        int port = EndpointFixture.FreePort();
        var server = EndpointFixture.StartServerProcess(port);
        try
        {
            var address = new Uri($"http://127.0.0.1:{port}");
            var cloud = CloudShard.Load(EndpointFixture.Cloud);
            using var fuzzer = new GrpcFuzzer(address, Clients.Fingerprint, cloud.Config.HiddenSize, cloud.Config.MaxPositions);
            var report = await fuzzer.RunAsync(400, seed: 5, () => !server.HasExited);
            await Task.Delay(1500); // past the rate limiter's burst
            report.AnswersCorrectlyAfter = GrpcFuzzer.AnswersCorrectly(address, Clients.Fingerprint, cloud, out string detail);
            Assert.That(report.Passed, Is.True, report.Summary() + "; " + detail + "; " + string.Join("; ", report.Findings.Take(5)));
            Assert.That(report.Outcomes.Keys, Does.Contain(nameof(StatusCode.InvalidArgument)));
        }
        finally { server.Dispose(); }
    }
}
