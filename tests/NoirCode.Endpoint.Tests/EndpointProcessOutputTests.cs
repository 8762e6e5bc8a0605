using System.Diagnostics;
using Grpc.Core;
using NoirCode.Protocol;
using NoirCode.Remote;

namespace NoirCode.Endpoint.Tests;

/// <summary>
/// Regression (found by `scripts/bench fuzz-grpc`): the endpoint logged every session to stdout, and its starters
/// (the sidecar's embedded endpoint, the benchmarks) read only the first line; after a few hundred sessions the
/// pipe was full, the logger blocked the request threads, and the endpoint stopped accepting connections.
/// </summary>
public class EndpointProcessOutputTests
{
    static string NoirDll => Path.Combine(AppContext.BaseDirectory, "noir.dll");

    [Test]
    public async Task StdoutCarriesOnlyTheAddressAndTheLogGoesToStderr()
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { NoirDll, "cloud", "serve", "--shard", EndpointFixture.Cloud, "--port", "0" }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = new System.Collections.Concurrent.ConcurrentQueue<string>();
        p.ErrorDataReceived += (_, e) => { if (e.Data != null) stderr.Enqueue(e.Data); };
        p.BeginErrorReadLine();
        try
        {
            string? first = await p.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.That(first, Does.StartWith("listening on "));
            var address = new Uri(first!["listening on ".Length..].Trim());
            using var connection = new EndpointConnection(address, Clients.Options(new[] { address }));
            await OpenAndCloseSessionAsync(connection);
            var deadline = Stopwatch.StartNew();
            while (!stderr.Any(l => l.Contains("closed")) && deadline.Elapsed < TimeSpan.FromSeconds(20)) await Task.Delay(50);
            Assert.That(stderr.Count(l => l.Contains("session") && l.Contains("opened")), Is.EqualTo(1), "the session's log lines are on stderr");
            p.Kill(true);
            await p.WaitForExitAsync();
            Assert.That(await p.StandardOutput.ReadToEndAsync(), Is.Empty, "nothing but the address on stdout");
        }
        finally { if (!p.HasExited) p.Kill(true); }
    }

    [Test]
    public async Task AnEndpointStartedAsAChildKeepsAnsweringAfterAThousandSessions()
    {
        using var server = EndpointServerProcess.Start(NoirDll, new[] { "--shard", EndpointFixture.Cloud, "--port", "0" });
        using var connection = new EndpointConnection(server.Address, Clients.Options(new[] { server.Address }));
        for (int i = 0; i < 1000; i++)
            await OpenAndCloseSessionAsync(connection).WaitAsync(TimeSpan.FromSeconds(30));
        using var http = new HttpClient { DefaultRequestVersion = System.Net.HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact, Timeout = TimeSpan.FromSeconds(10) };
        string metrics = await http.GetStringAsync(new Uri(server.Address, "/metrics"));
        Assert.That(metrics, Does.Contain("noir_sessions_active 0"));
    }

    static async Task OpenAndCloseSessionAsync(EndpointConnection connection)
    {
        using var call = connection.Client.Session(connection.Headers());
        var opened = await Clients.ExchangeAsync(call, Clients.Open());
        Assert.That(opened.KindCase, Is.EqualTo(SessionReply.KindOneofCase.Opened));
        await call.RequestStream.WriteAsync(new SessionRequest { Close = new CloseSession() });
        await call.RequestStream.CompleteAsync();
        while (await call.ResponseStream.MoveNext()) { }
    }
}
