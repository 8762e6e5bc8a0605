using System.CommandLine;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Privacy.Egress;
using NoirCode.Protocol;
using NoirCode.Remote;
using NoirCode.Sidecar;

namespace NoirCode.Cli.Commands;

/// <summary>
/// The options that say which model runs where (shared by generate and eval): a whole model or client shard,
/// the split, the middle in process (--cloud-shard) or on endpoints, privacy keys, the wire format.
/// </summary>
public sealed class ModelRuntimeOptions
{
    readonly Option<string> _model = CommonOptions.Model("model folder: a whole model, or a client shard written by 'noir split' (then give --endpoint or --cloud-shard)");
    readonly Option<string?> _split = CommonOptions.Split();
    readonly Option<string?> _cloudShard = new("--cloud-shard") { Description = "cloud shard folder to run the middle blocks in this process" };
    readonly Option<string?> _endpoint = new("--endpoint") { Description = "remote endpoint(s) running the middle blocks, e.g. http://127.0.0.1:7450 or unix:/path/to/socket (comma-separated for failover)" };
    readonly Option<string?> _apiKeyFile = new("--api-key-file") { Description = "owner-only file holding the endpoint API key (default: $NOIR_API_KEY)" };
    readonly Option<bool> _allowCleartext = new("--allow-cleartext") { Description = "allow an http:// endpoint on another machine (the network sees the hidden states; the API key is never sent over it)" };
    readonly Option<bool> _allowUnprotected = new("--allow-unprotected") { Description = "allow no --keys (ε = ∞) with an endpoint on another machine" };
    readonly Option<string> _wire = new("--wire") { Description = "wire format of hidden states: f16, f32, bf16 or int8", DefaultValueFactory = _ => "f16" };
    readonly Option<double> _residualNoise = new("--residual-noise") { Description = "σ of fresh secret noise added to every hidden state sent and taken off what comes back (residual cancellation); 0: off", DefaultValueFactory = _ => 0 };
    readonly Option<string?> _keys = new("--keys") { Description = "privacy keys (noir keygen): run the split under INDVocab + LTokenizer; useful output needs client shards tuned with them (noir tune)" };

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { _model, _split, _cloudShard, _endpoint, _apiKeyFile, _allowCleartext, _allowUnprotected, _wire, _keys, _residualNoise }) command.Add(o);
    }

    public static WireDtype ParseWire(string text) => Sidecar.Runtime.WireNames.Parse(text);

    public ModelRuntime Build(ParseResult r) => ModelRuntime.Create(new RuntimeSpec
    {
        ModelFolder = r.GetValue(_model)!,
        Split = r.GetValue(_split) is { } split ? SplitSpec.Parse(split) : null,
        CloudShardFolder = r.GetValue(_cloudShard),
        Endpoints = r.GetValue(_endpoint) is { } list ? EndpointClientOptions.ParseList(list) : null,
        ApiKey = r.GetValue(_endpoint) != null ? ApiKeySource.Resolve(r.GetValue(_apiKeyFile)) : null,
        Wire = ParseWire(r.GetValue(_wire)!),
        KeysFolder = r.GetValue(_keys),
        AllowCleartext = r.GetValue(_allowCleartext),
        AllowUnprotected = r.GetValue(_allowUnprotected),
        ResidualNoise = r.GetValue(_residualNoise) is >= 0 and var sigma && !double.IsInfinity(sigma) ? sigma : throw new ArgumentException("--residual-noise must be a number ≥ 0"),
        Progress = CommonOptions.Progress(),
    });
}
