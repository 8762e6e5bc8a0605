using System.CommandLine;
using NoirCode.Core.Generation;
using NoirCode.Core.Model;
using NoirCode.Core.Tokenization;
using NoirCode.Privacy.Egress;
using NoirCode.Privacy.Keys;
using NoirCode.Privacy.Ledger;
using NoirCode.Remote;

namespace NoirCode.Cli.Commands;

/// <summary>A ready model: its tokenizer, a session over it (local, split in process, or split through an endpoint), and how it runs.</summary>
/// <param name="Remote">the endpoint session when the middle runs remotely (for its traffic figures)</param>
public sealed record ModelRuntime(CodeTokenizer Tokenizer, IInferenceSession Session, string Mode, int MaxPositions, RemoteMiddleSession? Remote = null) : IDisposable
{
    public void Dispose() => Session.Dispose();
}

/// <summary>
/// The options that say which model runs where (shared by generate and eval): a whole model or client shard,
/// the split, the middle in process (--cloud-shard) or on endpoints, privacy keys, the wire format.
/// </summary>
public sealed class ModelRuntimeOptions
{
    readonly Option<string> _model = CommonOptions.Model("model folder: a whole model, or a client shard written by 'noir split' (then give --endpoint or --cloud-shard)");
    readonly Option<string?> _split = CommonOptions.Split();
    readonly Option<string?> _cloudShard = new("--cloud-shard") { Description = "cloud shard folder to run the middle blocks in this process" };
    readonly Option<string?> _endpoint = new("--endpoint") { Description = "remote endpoint(s) running the middle blocks, e.g. http://127.0.0.1:7450 (comma-separated for failover)" };
    readonly Option<string?> _apiKeyFile = new("--api-key-file") { Description = "owner-only file holding the endpoint API key (default: $NOIR_API_KEY)" };
    readonly Option<string> _wire = new("--wire") { Description = "wire format of hidden states: f16, f32, bf16 or int8", DefaultValueFactory = _ => "f16" };
    readonly Option<string?> _keys = new("--keys") { Description = "privacy keys (noir keygen): run the split under INDVocab + LTokenizer; useful output needs client shards tuned with them (noir tune)" };

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { _model, _split, _cloudShard, _endpoint, _apiKeyFile, _wire, _keys }) command.Add(o);
    }

    public static WireDtype ParseWire(string text) => text.ToLowerInvariant() switch
    {
        "f16" or "fp16" or "float16" => WireDtype.Float16,
        "f32" or "fp32" or "float32" => WireDtype.Float32,
        "bf16" or "bfloat16" => WireDtype.BFloat16,
        "int8" => WireDtype.Int8Blockwise,
        _ => throw new ArgumentException($"--wire must be f16, f32, bf16 or int8, not '{text}'"),
    };

    public ModelRuntime Build(ParseResult r)
    {
        string dir = r.GetValue(_model)!;
        var options = new LoadOptions { Progress = CommonOptions.Progress() };
        bool isClientShard = ShardManifest.TryLoad(dir) is { Role: ShardManifest.ClientRole };
        string? cloudDir = r.GetValue(_cloudShard), keyDir = r.GetValue(_keys), endpointList = r.GetValue(_endpoint);
        if (cloudDir != null && endpointList != null) throw new ArgumentException("give either --cloud-shard or --endpoint, not both");
        if (isClientShard && cloudDir == null && endpointList == null)
            throw new ArgumentException($"{dir} is a client shard: give --endpoint URL (or --cloud-shard DIR) for its middle blocks");
        var wireDtype = ParseWire(r.GetValue(_wire)!);
        var splitSpec = CommonOptions.ParseSplit(r.GetValue(_split));
        bool splitMode = isClientShard || r.GetValue(_split) != null || cloudDir != null || keyDir != null || endpointList != null;
        if (!splitMode)
        {
            var full = CausalLM.Load(dir, options);
            return new ModelRuntime(full.Tokenizer, new LocalSession(full), "local", full.Config.MaxPositions);
        }

        var client = ClientModel.Load(dir, splitSpec, options, untieHead: keyDir != null);
        string fingerprint = ModelFingerprint.Of(dir);
        PrivacyKeys? privacyKeys = keyDir == null ? null : PrivacyKeys.Load(keyDir, fingerprint);
        if (privacyKeys != null) SplitFineTuner.CheckBinding(dir, privacyKeys.Metadata.KeyId);
        IVocabularyMapping? mapping = privacyKeys?.ApplyTo(client);
        IMiddleSession middle;
        RemoteMiddleSession? remote = null;
        string mode;
        if (endpointList != null)
        {
            // Everything bound for the endpoint passes the egress guard, which charges the user's ledger.
            var guard = new EgressGuard(client.Config.HiddenSize, wireDtype, new ExposureLedger(ExposureLedger.DefaultFolder()),
                ExposureLedger.WorkspaceId(Directory.GetCurrentDirectory()), privacyKeys?.Metadata.KeyId ?? "none");
            var clientOptions = new EndpointClientOptions { Endpoints = EndpointClientOptions.ParseList(endpointList), ApiKey = ApiKeySource.Resolve(r.GetValue(_apiKeyFile)), ReplyDtype = wireDtype };
            middle = remote = new RemoteMiddleSession(clientOptions, guard, fingerprint, client.Config.MaxPositions, client.Config.HiddenSize);
            mode = $"split {client.Split} via {endpointList}";
        }
        else
        {
            var cloud = CloudShard.Load(cloudDir ?? dir, client.Split, options);
            if (cloud.Split != client.Split) throw new ArgumentException($"the client shard is split {client.Split} but the cloud shard {cloud.Split}");
            if (cloudDir != null && ModelFingerprint.Of(cloudDir) != fingerprint) throw new ArgumentException("the client and cloud shards come from different models");
            middle = new LocalMiddleSession(cloud);
            // In process too, the middle receives only what the egress guard admitted and encoded.
            if (privacyKeys != null) middle = new GuardedMiddleSession(new EgressGuard(client.Config.HiddenSize, wireDtype, keyId: privacyKeys.Metadata.KeyId), middle);
            mode = $"split {client.Split} (middle in this process)";
        }
        if (privacyKeys != null) mode += $", keys {privacyKeys.Metadata.KeyId} (ε = {privacyKeys.Metadata.Epsilon})";
        return new ModelRuntime(client.Tokenizer, new SplitSession(client, middle, mapping), mode, client.Config.MaxPositions, remote);
    }
}
