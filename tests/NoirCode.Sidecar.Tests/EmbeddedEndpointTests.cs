using Grpc.Core;
using NoirCode.Core.Model;
using NoirCode.Protocol;
using NoirCode.Remote;

namespace NoirCode.Sidecar.Tests;

/// <summary>
/// The embedded default's endpoint (a real `noir cloud serve` process) listens on an owner-only unix socket in a
/// fresh owner-only folder under the runtime dir, and takes only the key made for this launch, which is on no command
/// line and in no file: another user of the machine can neither run nor train on it. Where no socket can be made it
/// runs on loopback TCP instead.
/// </summary>
public class EmbeddedEndpointTests
{
    /// <summary>A scratch folder as this process's cache and runtime dir (the launcher reads both from the
    /// environment), put back and removed at the end.</summary>
    sealed class ScratchEnvironment : IDisposable
    {
        static readonly string[] Variables = { "XDG_CACHE_HOME", "XDG_RUNTIME_DIR" };
        readonly string?[] _saved = Variables.Select(Environment.GetEnvironmentVariable).ToArray();
        public string Root { get; } = Directory.CreateTempSubdirectory("noir-embedded-tests-").FullName;

        public ScratchEnvironment(string? runtimeUnderRoot = null)
        {
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", Path.Combine(Root, "cache"));
            Environment.SetEnvironmentVariable("XDG_RUNTIME_DIR", runtimeUnderRoot == null ? Root : Directory.CreateDirectory(Path.Combine(Root, runtimeUnderRoot)).FullName);
        }

        public string RuntimeDir => Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR")!;

        /// <summary>A random model in the scratch folder, for the embedded endpoint to serve.</summary>
        public string NewModel()
        {
            string model = Path.Combine(Root, "model");
            RandomModelFactory.Create(model, "tiny", seed: 5);
            return model;
        }

        public void Dispose()
        {
            for (int i = 0; i < Variables.Length; i++) Environment.SetEnvironmentVariable(Variables[i], _saved[i]);
            Directory.Delete(Root, true);
        }
    }

    [Test]
    public async Task OnlyThisLaunchsKeyOpensASession()
    {
        using var scratch = new ScratchEnvironment();
        string model = scratch.NewModel();
        using var embedded = EmbeddedEndpoint.Start(model, Path.Combine(AppContext.BaseDirectory, "noir.dll"));
        Assert.That(embedded.ApiKey, Has.Length.EqualTo(64));
        Assert.That(embedded.Address.Scheme, Is.EqualTo("unix"), "the local endpoint runs over a unix socket");
        // Every user can list command lines; the key is not on it (it travels in the endpoint's environment).
        Assert.That(File.ReadAllText($"/proc/{embedded.Pid}/cmdline"), Does.Contain("--auth-env").And.Not.Contain(embedded.ApiKey));
        string fingerprint = ModelFingerprint.Of(embedded.ClientFolder);

        foreach (var key in new[] { null, "another-users-guess-0123456789" })
        {
            var e = Assert.ThrowsAsync<RpcException>(() => Open(embedded.Address, key, fingerprint))!;
            Assert.That(e.StatusCode, Is.EqualTo(StatusCode.Unauthenticated), key ?? "no key");
        }
        Assert.That(await Open(embedded.Address, embedded.ApiKey, fingerprint), Is.EqualTo(SessionReply.KindOneofCase.Opened));
    }

    [Test]
    public async Task TheSocketIsOwnerOnlyAnswersTheHealthProbeAndGoesWithTheEndpoint()
    {
        using var scratch = new ScratchEnvironment();
        string root = scratch.Root, model = scratch.NewModel();
        string socket;
        using (var embedded = EmbeddedEndpoint.Start(model, Path.Combine(AppContext.BaseDirectory, "noir.dll")))
        {
            socket = UnixSocketEndpoint.SocketPath(embedded.Address);
            Assert.That(Path.GetDirectoryName(Path.GetDirectoryName(socket)), Is.EqualTo(root), "a fresh folder under XDG_RUNTIME_DIR");
            Assert.That(File.GetUnixFileMode(Path.GetDirectoryName(socket)!), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute));
            Assert.That(File.GetUnixFileMode(socket), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
            Assert.That(await EndpointProbe.IsUpAsync(embedded.Address, CancellationToken.None), Is.True, "/healthz over the socket");
        }
        Assert.That(Directory.Exists(Path.GetDirectoryName(socket)), Is.False, "the socket's folder goes with the endpoint");
        Assert.That(await EndpointProbe.IsUpAsync(new Uri("unix:" + socket), CancellationToken.None), Is.False);
    }

    [Test]
    public void FoldersAKilledSidecarLeftAreSweptButALiveEndpointsAreKept()
    {
        using var scratch = new ScratchEnvironment();
        string root = scratch.Root;
        string dead = Directory.CreateDirectory(Path.Combine(root, "noircode-endpoint-dead")).FullName;
        using (var s = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified))
            s.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(Path.Combine(dead, "endpoint.sock"))); // closed, never unlinked: a killed endpoint's
        string live = Directory.CreateDirectory(Path.Combine(root, "noircode-endpoint-live")).FullName;
        using var listener = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        listener.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(Path.Combine(live, "endpoint.sock")));
        listener.Listen();
        string starting = Directory.CreateDirectory(Path.Combine(root, "noircode-endpoint-starting")).FullName;
        foreach (var old in new[] { dead, live }) Directory.SetLastWriteTimeUtc(old, DateTime.UtcNow.AddHours(-1));

        using var socket = EmbeddedEndpointSocket.Create();
        Assert.That(Directory.Exists(dead), Is.False, "no endpoint listens there any more");
        Assert.That(Directory.Exists(live), Is.True, "another sidecar's endpoint still runs");
        Assert.That(Directory.Exists(starting), Is.True, "too young: its endpoint may still be starting");
        Assert.That(Directory.Exists(socket.Folder), Is.True);
    }

    [Test]
    public void ASplitAKilledSidecarLeftHalfDoneIsRemovedAtTheNextStart()
    {
        using var scratch = new ScratchEnvironment();
        string model = scratch.NewModel();
        using var ended = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("true") { UseShellExecute = false })!;
        ended.WaitForExit();
        string abandoned = FolderInstall.BuildingFolder(EmbeddedEndpoint.SplitFolder(model), ended.Id);
        Directory.CreateDirectory(Path.Combine(abandoned, "client"));

        using (var embedded = EmbeddedEndpoint.Start(model, Path.Combine(AppContext.BaseDirectory, "noir.dll")))
        {
            Assert.That(Directory.Exists(abandoned), Is.False);
            Assert.That(Path.GetDirectoryName(embedded.ClientFolder), Is.EqualTo(EmbeddedEndpoint.SplitFolder(model)));
        }
        // Once the split is in the cache, a start still removes what a killed sidecar left beside it.
        Directory.CreateDirectory(Path.Combine(abandoned, "client"));
        using var again = EmbeddedEndpoint.Start(model, Path.Combine(AppContext.BaseDirectory, "noir.dll"));
        Assert.That(Directory.Exists(abandoned), Is.False, "swept with the split already there");
    }

    [Test]
    public async Task WhereNoSocketCanBeMadeItRunsOnLoopbackTcp()
    {
        // A runtime dir so deep that no socket path under it fits in sun_path (108 bytes).
        using var scratch = new ScratchEnvironment(runtimeUnderRoot: new string('r', 100));
        string deep = scratch.RuntimeDir;
        var log = new StringWriter();
        var stderr = Console.Error;
        try
        {
            string model = scratch.NewModel();
            Console.SetError(log);
            using var embedded = EmbeddedEndpoint.Start(model, Path.Combine(AppContext.BaseDirectory, "noir.dll"));
            Console.SetError(stderr);
            Assert.That(embedded.Address.IsLoopback, Is.True, embedded.Address.ToString());
            Assert.That(log.ToString(), Does.Contain("no unix socket").And.Contain("using loopback TCP instead"));
            Assert.That(Directory.GetDirectories(deep), Is.Empty, "the folder made for the socket is not left behind");
            Assert.That(await Open(embedded.Address, embedded.ApiKey, ModelFingerprint.Of(embedded.ClientFolder)), Is.EqualTo(SessionReply.KindOneofCase.Opened));
        }
        finally { Console.SetError(stderr); }
    }

    static async Task<SessionReply.KindOneofCase> Open(Uri address, string? key, string fingerprint)
    {
        using var connection = new EndpointConnection(address, new EndpointClientOptions { Endpoints = new[] { address }, ApiKey = key });
        using var call = connection.Client.Session(connection.Headers());
        await call.RequestStream.WriteAsync(new SessionRequest { Open = new OpenSession { ModelFingerprint = fingerprint, MaxLength = 16 } });
        Assert.That(await call.ResponseStream.MoveNext(), Is.True);
        var kind = call.ResponseStream.Current.KindCase;
        await call.RequestStream.WriteAsync(new SessionRequest { Close = new CloseSession() });
        await call.RequestStream.CompleteAsync();
        return kind;
    }
}
