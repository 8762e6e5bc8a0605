using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using NoirCode.Core.Model;
using NoirCode.Core.Split;

namespace NoirCode.Sidecar.Tests;

/// <summary>
/// A configured endpoint dies: the next completion reports offline; when the endpoint is back on the same
/// address, the sidecar notices by itself (a health probe, nothing of the user's sent) and reports split again.
/// </summary>
public class OfflineRecoveryTests
{
    static Process Serve(string cloud, int port)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "noir.dll"), "cloud", "serve", "--shard", cloud, "--port", port.ToString() }) psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        p.ErrorDataReceived += (_, _) => { };
        p.BeginErrorReadLine();
        var line = p.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60)).GetAwaiter().GetResult();
        Assert.That(line, Does.StartWith("listening on"), "the endpoint started");
        return p;
    }

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
        string root = Directory.CreateTempSubdirectory("noir-offline-tests-").FullName;
        string model = Path.Combine(root, "model"), client = Path.Combine(root, "client"), cloud = Path.Combine(root, "cloud");
        RandomModelFactory.Create(model, "tiny", seed: 5);
        ModelSplitter.Split(model, client, cloud, SplitSpec.Default);
        int port = FreePort();
        var endpoint = Serve(cloud, port);
        var sidecar = new SidecarProcess(root, new Dictionary<string, string> { ["XDG_CACHE_HOME"] = Path.Combine(root, "cache"), ["NOIR_LEDGER_DIR"] = Path.Combine(root, "ledger") });
        try
        {
            await sidecar.InitializeAsync(new { modelFolder = client, endpoint = $"http://127.0.0.1:{port}" });
            Assert.That(sidecar.WaitForStatus(s => s.GetProperty("mode").GetString() is "split" or "error").GetProperty("mode").GetString(), Is.EqualTo("split"));
            await sidecar.Open("a.py", "def f(x):\n    return ");
            await sidecar.Complete("a.py", 1, 11);
            sidecar.WaitForStatus(s => s.TryGetProperty("last", out _));

            endpoint.Kill(true);
            endpoint.WaitForExit();
            await sidecar.Open("b.py", "import sys\n\n\ndef main():\n    ");
            var items = (await sidecar.Complete("b.py", 4, 4)).GetProperty("items");
            Assert.That(items.GetArrayLength(), Is.Zero);
            sidecar.WaitForStatus(s => s.GetProperty("mode").GetString() == "offline", 60);

            endpoint = Serve(cloud, port);
            var back = sidecar.WaitForStatus(s => s.GetProperty("mode").GetString() == "split", 60);
            Assert.That(back.GetProperty("detail").GetString(), Does.Contain("reachable again"));
            await sidecar.ShutdownAsync();
        }
        finally
        {
            if (!endpoint.HasExited) endpoint.Kill(true);
            await sidecar.DisposeAsync();
            Directory.Delete(root, true);
        }
    }
}
