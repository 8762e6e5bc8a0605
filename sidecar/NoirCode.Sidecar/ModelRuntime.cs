using NoirCode.Core.Generation;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Core.Tokenization;
using NoirCode.Privacy;
using NoirCode.Privacy.Egress;
using NoirCode.Privacy.Keys;
using NoirCode.Privacy.Ledger;
using NoirCode.Remote;
using NoirCode.Protocol;

namespace NoirCode.Sidecar;

/// <summary>Which model runs where: the client part here, the middle in this process or on endpoints, under keys or not.</summary>
public sealed record RuntimeSpec
{
    public required string ModelFolder { get; init; }
    public SplitSpec? Split { get; init; }
    /// <summary>Run the whole model here (no split).</summary>
    public bool Local { get; init; }
    public string? CloudShardFolder { get; init; }
    public IReadOnlyList<Uri>? Endpoints { get; init; }
    public string? ApiKey { get; init; }
    /// <summary>Allow http:// to an endpoint on another machine (never with the API key).</summary>
    public bool AllowCleartext { get; init; }
    /// <summary>Allow no privacy keys (ε = ∞) with an endpoint on another machine.</summary>
    public bool AllowUnprotected { get; init; }
    public WireDtype Wire { get; init; } = WireDtype.Float16;
    public string? KeysFolder { get; init; }
    /// <summary>For the ledger: the workspace the traffic is charged to.</summary>
    public string Workspace { get; init; } = Directory.GetCurrentDirectory();
    public ExposureBudget? Budget { get; init; }
    public Core.Util.IProgressSink Progress { get; init; } = Core.Util.NullProgress.Instance;
    /// <summary>An editor is waiting: the interactive retry budget (<see cref="EndpointClientOptions.Interactive"/>).</summary>
    public bool Interactive { get; init; }
    /// <summary>Per-occurrence noise with residual cancellation (<see cref="ResidualMask"/>): its σ per coordinate; 0: off.</summary>
    public double ResidualNoise { get; init; }
}

/// <summary>A ready model: its tokenizer, a session over it, how it runs, and what it costs on the wire.</summary>
public sealed record ModelRuntime(CodeTokenizer Tokenizer, IInferenceSession Session, string Mode, int MaxPositions,
    RemoteMiddleSession? Remote, KeyMetadata? Keys, EgressGuard? Guard) : IDisposable
{
    /// <summary>The folder the client side was loaded from (a whole model or a client shard).</summary>
    public string ModelFolder { get; init; } = "";
    /// <summary>The privacy keys' folder, when the runtime runs under keys.</summary>
    public string? KeysFolder { get; init; }
    /// <summary>The default exposure budget measured for these keys' configuration, and the file it came from.</summary>
    public (MeasuredBudget Budget, string Path)? MeasuredBudget { get; init; }
    /// <summary>How the runtime reaches its endpoint (a rotation's re-tune uses the same), when it has one.</summary>
    public EndpointClientOptions? RemoteOptions { get; init; }
    /// <summary>The public, whole model this client derives from, when it is on this machine: what an attacker is
    /// assumed to hold, for the per-prompt security report.</summary>
    public string? PublicModelFolder { get; init; }
    /// <summary>The longest window a keyed client was tuned on (<see cref="TunedShardBinding"/>): past it its decoder
    /// has never read its keys' rows; null when not keyed, untuned or not recorded.</summary>
    public int? TunedWindow { get; init; }

    public void Dispose() { Session.Dispose(); Guard?.Dispose(); }

    /// <summary>Tokens charged to the ledger ahead at a time: a suggestion's decode steps cost one fsync, not one each.</summary>
    public const long ChargeBlock = 64;

    public static ModelRuntime Create(RuntimeSpec spec)
    {
        string dir = spec.ModelFolder;
        var options = new LoadOptions { Progress = spec.Progress };
        bool isClientShard = ShardManifest.TryLoad(dir) is { Role: ShardManifest.ClientRole };
        if (spec.CloudShardFolder != null && spec.Endpoints != null) throw new ArgumentException("give either a cloud shard or endpoints, not both");
        if (isClientShard && spec.CloudShardFolder == null && spec.Endpoints == null)
            throw new ArgumentException($"{dir} is a client shard: give an endpoint (or a cloud shard) for its middle blocks");
        if (spec.Local && (spec.Endpoints != null || spec.KeysFolder != null)) throw new ArgumentException("the local mode runs the whole model here, without endpoint or keys");
        if (spec.Endpoints != null)
        {
            // Before the model loads, and long before anything is sent.
            foreach (var e in spec.Endpoints) EndpointClientOptions.CheckCleartext(e, spec.AllowCleartext);
            RemoteProtection.Check(spec.Endpoints, spec.KeysFolder == null ? null : PrivacyKeys.ReadMetadata(spec.KeysFolder), spec.AllowUnprotected);
        }
        bool split = !spec.Local && (isClientShard || spec.Split != null || spec.CloudShardFolder != null || spec.KeysFolder != null || spec.Endpoints != null);
        if (!split)
        {
            var full = CausalLM.Load(dir, options);
            return new ModelRuntime(full.Tokenizer, new LocalSession(full), "local", full.Config.MaxPositions, null, null, null) { ModelFolder = dir };
        }

        var client = ClientModel.Load(dir, spec.Split, options, untieHead: spec.KeysFolder != null);
        string fingerprint = ModelFingerprint.Of(dir);
        PrivacyKeys? keys = spec.KeysFolder == null ? null : PrivacyKeys.Load(spec.KeysFolder, fingerprint);
        if (keys != null) TunedShardBinding.Check(dir, keys.Metadata.KeyId);
        IVocabularyMapping? mapping = keys?.ApplyTo(client);
        IMiddleSession middle;
        RemoteMiddleSession? remote = null;
        EgressGuard? guard = null;
        EndpointClientOptions? remoteOptions = null;
        string mode;
        if (spec.Endpoints != null)
        {
            // Everything bound for the endpoint passes the egress guard, which charges the user's ledger.
            // Charged a block ahead (one fsync per block, not per step), settled after each request (ChargeBlock).
            string ledgerFolder = ExposureLedger.DefaultFolder();
            guard = new EgressGuard(client.Config.HiddenSize, spec.Wire, new ExposureLedger(ledgerFolder),
                WorkspaceIds.For(ledgerFolder, spec.Workspace), keys?.Metadata.KeyId ?? "none", spec.Budget, ChargeBlock);
            var clientOptions = new EndpointClientOptions
            {
                Endpoints = spec.Endpoints, ApiKey = spec.ApiKey, ReplyDtype = spec.Wire, AllowCleartext = spec.AllowCleartext,
                AdapterId = TenantAdapterId.ForClient(dir, keys?.Metadata), // the endpoint LoRA tuned for these keys
            };
            if (spec.Interactive) clientOptions = clientOptions.Interactive();
            remoteOptions = clientOptions;
            middle = remote = new RemoteMiddleSession(clientOptions, guard, fingerprint, client.Config.MaxPositions, client.Config.HiddenSize);
            mode = $"split {client.Split} via {string.Join(",", spec.Endpoints)}";
        }
        else
        {
            var cloud = CloudShard.Load(spec.CloudShardFolder ?? dir, client.Split, options);
            if (cloud.Split != client.Split) throw new ArgumentException($"the client shard is split {client.Split} but the cloud shard {cloud.Split}");
            if (spec.CloudShardFolder != null && ModelFingerprint.Of(spec.CloudShardFolder) != fingerprint)
                throw new ArgumentException("the client and cloud shards come from different models");
            middle = new LocalMiddleSession(cloud);
            // In process too, the middle receives only what the egress guard admitted and encoded.
            if (keys != null) middle = new GuardedMiddleSession(guard = new EgressGuard(client.Config.HiddenSize, spec.Wire, keyId: keys.Metadata.KeyId), middle);
            mode = $"split {client.Split} (middle in this process)";
        }
        if (keys != null) mode += $", keys {keys.Metadata.KeyId} (ε = {keys.Metadata.Epsilon}{(keys.Metadata.Homophones > 1 ? $" per table, {keys.Metadata.Homophones} rows per token" : "")})";
        if (spec.ResidualNoise > 0) { middle = new ResidualMask(middle, spec.ResidualNoise); mode += $", residual noise σ = {spec.ResidualNoise:G3}"; }
        return new ModelRuntime(client.Tokenizer, new SplitSession(client, middle, mapping), mode, client.Config.MaxPositions, remote, keys?.Metadata, guard)
        { ModelFolder = dir, KeysFolder = spec.KeysFolder, RemoteOptions = remoteOptions, TunedWindow = keys == null ? null : TunedShardBinding.WindowTokens(dir) };
    }
}
