using System.CommandLine;

namespace NoirCode.Endpoint.Hosting;

/// <summary>
/// The endpoint's commands, shared by its own executable (<c>noir-endpoint serve</c>, what the image ships) and the
/// CLI (<c>noir cloud serve</c>, which the sidecar's local endpoint and the tests start), so both take the same options.
/// </summary>
public static class EndpointCommands
{
    /// <summary><c>hash-key</c>: the --auth file form of a key, so the file need not hold the key itself.</summary>
    public static Command HashKey()
    {
        var cmd = new Command("hash-key", "Read an API key from stdin (never the command line) and print its salted-hash form for the --auth file ('sha256:SALT:HASH')");
        cmd.SetAction(_ =>
        {
            string key = (Console.In.ReadLine() ?? "").Trim();
            Console.Out.WriteLine(ApiKeys.HashedForm(key));
            return 0;
        });
        return cmd;
    }

    /// <summary><c>serve</c>: runs the endpoint until interrupted; its first line on stdout is "listening on ADDRESS".</summary>
    public static Command Serve()
    {
        var shard = new Option<string>("--shard") { Description = "cloud shard folder (noir split --cloud-out), or a whole model with --split", Required = true };
        var host = new Option<string>("--host") { Description = "address to bind; anything but loopback needs --tls-cert, --tls-key and --auth", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "port for gRPC, /healthz and /metrics (see --metrics-token-file)", DefaultValueFactory = _ => 7450 };
        var unixSocket = new Option<string?>("--unix-socket") { Description = "listen on this Unix domain socket instead of TCP (local like loopback); its folder must be owner-only (0700); the socket is made 0600 and removed on shutdown; clients use unix:PATH" };
        var cert = new Option<string?>("--tls-cert") { Description = "PEM certificate" };
        var key = new Option<string?>("--tls-key") { Description = "PEM private key" };
        var auth = new Option<string?>("--auth") { Description = "file of 'API_KEY TENANT' lines" };
        var authEnv = new Option<string?>("--auth-env") { Description = "like --auth, from this environment variable (for a parent process; nothing on disk)" };
        var metricsToken = new Option<string?>("--metrics-token-file") { Description = "owner-only file with the token /metrics requires (Bearer); without it /metrics is served only on loopback without --auth" };
        var state = new Option<string?>("--state-dir") { Description = "folder for tenants' adapters (default: memory only)" };
        var split = new Option<string?>("--split") { Description = "client blocks as K,J: K encoder blocks, J decoder blocks (default 1,4, clipped for small models)" };
        var kvBudget = new Option<long>("--kv-budget-mb") { Description = "KV-cache memory for all sessions", DefaultValueFactory = _ => 2048 };
        var perTenant = new Option<int>("--max-sessions-per-tenant") { DefaultValueFactory = _ => 64 };
        var idle = new Option<double>("--idle-timeout-s") { Description = "close sessions idle this long", DefaultValueFactory = _ => 300 };
        var rate = new Option<double>("--rate-limit") { Description = "requests per second per tenant", DefaultValueFactory = _ => 2000 };
        var kvPerTenant = new Option<long?>("--kv-per-tenant-mb") { Description = "KV-cache memory one tenant's sessions may reserve (default: half of --kv-budget-mb when --auth names several tenants, all of it for one)" };
        var tokenRate = new Option<double>("--token-rate-limit") { Description = "positions (hidden-state rows) per second per tenant", DefaultValueFactory = _ => 50_000 };
        var tokenBurst = new Option<double?>("--token-burst") { Description = "positions a tenant may send at once (default: 2 s of --token-rate-limit)" };
        var trainingMemory = new Option<long>("--training-mb-per-tenant") { Description = "memory of one tenant's training samples awaiting their backward pass", DefaultValueFactory = _ => 1024 };
        var trainingStreams = new Option<int>("--max-training-streams-per-tenant") { DefaultValueFactory = _ => 4 };
        var trainingIdle = new Option<double>("--training-idle-timeout-s") { Description = "end training streams idle this long, freeing their pending samples", DefaultValueFactory = _ => 300 };
        var prefillChunk = new Option<int>("--prefill-chunk") { Description = "positions a prefill runs at a time before other tenants' work gets a turn", DefaultValueFactory = _ => 128 };
        var maxMessage = new Option<int>("--max-message-mb") { DefaultValueFactory = _ => 32 };
        var parent = new Option<int?>("--exit-with-parent") { Description = "stop when this process id is gone (used by the sidecar's local endpoint)" };
        var cmd = new Command("serve", "Serve the middle blocks over gRPC; runs until interrupted")
            { shard, host, port, unixSocket, cert, key, auth, authEnv, metricsToken, state, split, kvBudget, perTenant, idle, rate, kvPerTenant, tokenRate, tokenBurst, trainingMemory, trainingStreams, trainingIdle, prefillChunk, maxMessage, parent };
        cmd.SetAction(async (r, cancel) =>
        {
            var options = new EndpointOptions
            {
                ShardFolder = r.GetValue(shard)!, Host = r.GetValue(host)!, Port = r.GetValue(port), UnixSocketPath = r.GetValue(unixSocket),
                TlsCertificate = r.GetValue(cert), TlsKey = r.GetValue(key), AuthFile = r.GetValue(auth), AuthEnvironmentVariable = r.GetValue(authEnv), MetricsTokenFile = r.GetValue(metricsToken), StateFolder = r.GetValue(state),
                Split = r.GetValue(split) is { } s ? Core.Split.SplitSpec.Parse(s) : null,
                KvBudgetBytes = r.GetValue(kvBudget) << 20, MaxSessionsPerTenant = r.GetValue(perTenant),
                IdleTimeout = TimeSpan.FromSeconds(r.GetValue(idle)), RequestsPerSecondPerTenant = r.GetValue(rate),
                KvBytesPerTenant = r.GetValue(kvPerTenant) << 20, TokensPerSecondPerTenant = r.GetValue(tokenRate), TokenBurstPerTenant = r.GetValue(tokenBurst),
                TrainingBytesPerTenant = r.GetValue(trainingMemory) << 20, TrainingIdleTimeout = TimeSpan.FromSeconds(r.GetValue(trainingIdle)), MaxTrainingStreamsPerTenant = r.GetValue(trainingStreams),
                PrefillChunkTokens = r.GetValue(prefillChunk),
                MaxMessageBytes = r.GetValue(maxMessage) << 20,
            };
            await using var endpoint = await EndpointHost.StartAsync(options);
            var c = endpoint.State.Shard;
            // The first line on stdout is the address, so scripts and tests can wait for it.
            Console.Out.WriteLine($"listening on {endpoint.Address}");
            Console.Out.Flush();
            Console.Error.WriteLine($"noir endpoint: blocks {c.Middle.First}..{c.Middle.First + c.Middle.Count - 1} of {c.Config.NumLayers}, model {endpoint.State.Fingerprint}, " +
                $"{(options.HasAuth ? "API keys required" : options.UnixSocketPath != null ? "no auth (unix socket)" : "no auth (loopback)")}, " +
                $"{(options.UnixSocketPath != null ? "h2c on an owner-only unix socket" : options.TlsCertificate == null ? "cleartext h2c" : "TLS")}");
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            if (r.GetValue(parent) is int parentPid) _ = WatchParent(parentPid, stop);
            try { await endpoint.WaitForShutdownAsync(stop.Token); } catch (OperationCanceledException) { }
            return 0;
        });
        return cmd;
    }

    static async Task WatchParent(int pid, CancellationTokenSource stop)
    {
        while (!stop.IsCancellationRequested)
        {
            await Task.Delay(500);
            try { using var p = System.Diagnostics.Process.GetProcessById(pid); if (p.HasExited) break; }
            catch (ArgumentException) { break; }
        }
        Console.Error.WriteLine("noir endpoint: the process that started it is gone; stopping");
        stop.Cancel();
    }
}
