using System.Net;
using System.Net.Sockets;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Remote;
using NoirCode.Testing.Lsp;
using NoirCode.Testing.Models;

namespace NoirCode.Sidecar.Tests;

/// <summary>
/// A configured endpoint dies: the next completion reports offline; when the endpoint is back on the same
/// address, the sidecar notices by itself (a health probe, nothing of the user's sent) and reports split again.
/// </summary>
public class OfflineRecoveryTests
{
    static EndpointServerProcess Serve(string cloud, int port) =>
        EndpointServerProcess.Start(Path.Combine(AppContext.BaseDirectory, "noir.dll"), new[] { "--shard", cloud, "--port", port.ToString() });

    static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    [Test]
    public async Task OfflineThenBackWithoutARequest()
    {
        using var temp = new TempModel("noir-offline-tests-", seed: 5);
        string root = temp.Root, model = temp.Folder, client = Path.Combine(root, "client"), cloud = Path.Combine(root, "cloud");
        ModelSplitter.Split(model, client, cloud, SplitSpec.Default);
        int port = FreePort();
        var endpoint = Serve(cloud, port);
        var sidecar = LspProcess.Start(LspProcess.IsolatedEnvironment(root));
        try
        {
            await sidecar.InitializeAsync(new { modelFolder = client, endpoint = $"http://127.0.0.1:{port}" }, root);
            Assert.That(sidecar.WaitForStatus(s => s.GetProperty("mode").GetString() is "split" or "error").GetProperty("mode").GetString(), Is.EqualTo("split"));
            await sidecar.Open("a.py", "def f(x):\n    return ");
            await sidecar.Complete("a.py", 1, 11);
            sidecar.WaitForStatus(s => s.TryGetProperty("last", out _));

            endpoint.KillHard();
            await sidecar.Open("b.py", "import sys\n\n\ndef main():\n    ");
            var items = (await sidecar.Complete("b.py", 4, 4)).GetProperty("items");
            Assert.That(items.GetArrayLength(), Is.Zero);
            sidecar.WaitForStatus(s => s.GetProperty("mode").GetString() == "offline", 60);

            endpoint = Serve(cloud, port);
            var back = sidecar.WaitForStatus(s => s.GetProperty("mode").GetString() == "split", 60);
            Assert.That(back.GetProperty("detail").GetString(), Does.Contain("reachable again"));
            await sidecar.ShutdownCleanlyAsync();
        }
        finally
        {
            endpoint.Dispose();
            sidecar.Dispose();
        }
    }
}
