using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Endpoint;
using NoirCode.Remote;

namespace NoirCode.Endpoint.Tests;

/// <summary>A random model split into client and cloud folders, made once; endpoints on loopback.</summary>
[SetUpFixture]
public sealed class EndpointFixture
{
    public static string Root { get; private set; } = "";
    public static string Model => Path.Combine(Root, "model");
    public static string Client => Path.Combine(Root, "client");
    public static string Cloud => Path.Combine(Root, "cloud");

    [OneTimeSetUp]
    public void Create()
    {
        Root = Directory.CreateTempSubdirectory("noir-endpoint-tests-").FullName;
        RandomModelFactory.Create(Model, "tiny-llama", seed: 4);
        ModelSplitter.Split(Model, Client, Cloud, new SplitSpec(1, 2));
        Environment.SetEnvironmentVariable("NOIR_LEDGER_DIR", Path.Combine(Root, "ledger"));
    }

    [OneTimeTearDown]
    public void Remove() { try { Directory.Delete(Root, recursive: true); } catch (IOException) { } }

    public static Task<EndpointHost> StartAsync(Func<EndpointOptions, EndpointOptions>? configure = null,
        Action<Grpc.AspNetCore.Server.GrpcServiceOptions>? grpc = null)
    {
        var options = new EndpointOptions { ShardFolder = Cloud, Port = 0 };
        return EndpointHost.StartAsync(configure?.Invoke(options) ?? options, logging: _ => { }, grpc);
    }

    public static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    /// <summary>`noir cloud serve` as its own process, ready when it prints its address.</summary>
    public static EndpointServerProcess StartServerProcess(int port) =>
        EndpointServerProcess.Start(Path.Combine(AppContext.BaseDirectory, "noir.dll"), new[] { "--shard", Cloud, "--port", port.ToString() });
}
