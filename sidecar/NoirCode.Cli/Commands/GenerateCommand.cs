using System.CommandLine;
using System.Text.Json.Nodes;
using NoirCode.Core.Generation;
using NoirCode.Core.Model;
using NoirCode.Core.Tokenization;
using NoirCode.Privacy;
using NoirCode.Privacy.Egress;
using NoirCode.Privacy.Keys;
using NoirCode.Privacy.Ledger;
using NoirCode.Remote;

namespace NoirCode.Cli.Commands;

/// <summary><c>noir generate</c>: a completion from a prompt, or fill-in-the-middle from a prefix and suffix.</summary>
public static class GenerateCommand
{
    static WireDtype ParseWire(string text) => text.ToLowerInvariant() switch
    {
        "f16" or "fp16" or "float16" => WireDtype.Float16,
        "f32" or "fp32" or "float32" => WireDtype.Float32,
        "bf16" or "bfloat16" => WireDtype.BFloat16,
        "int8" => WireDtype.Int8Blockwise,
        _ => throw new ArgumentException($"--wire must be f16, f32, bf16 or int8, not '{text}'"),
    };

    public static Command Create()
    {
        var model = CommonOptions.Model("model folder: a whole model, or a client shard written by 'noir split' (then give --cloud-shard)");
        var prompt = new Option<string?>("--prompt") { Description = "text to continue" };
        var prefix = new Option<string?>("--prefix") { Description = "code before the cursor (fill-in-the-middle)" };
        var suffix = new Option<string?>("--suffix") { Description = "code after the cursor (fill-in-the-middle)" };
        var split = CommonOptions.Split();
        var cloudShard = new Option<string?>("--cloud-shard") { Description = "cloud shard folder to run the middle blocks in this process" };
        var maxTokens = new Option<int>("--max-tokens") { Description = "most tokens to generate", DefaultValueFactory = _ => 64 };
        var temperature = new Option<double>("--temperature") { Description = "0 = greedy", DefaultValueFactory = _ => 0 };
        var topP = new Option<double>("--top-p") { Description = "nucleus sampling mass", DefaultValueFactory = _ => 1.0 };
        var stop = new Option<string[]>("--stop") { Description = "stop string (repeatable)", AllowMultipleArgumentsPerToken = false };
        var seed = new Option<int?>("--seed") { Description = "sampling seed" };
        var endpoint = new Option<string?>("--endpoint") { Description = "remote endpoint(s) running the middle blocks, e.g. http://127.0.0.1:7450 (comma-separated for failover)" };
        var apiKeyFile = new Option<string?>("--api-key-file") { Description = "owner-only file holding the endpoint API key (default: $NOIR_API_KEY)" };
        var wire = new Option<string>("--wire") { Description = "wire format of hidden states: f16, f32, bf16 or int8", DefaultValueFactory = _ => "f16" };
        var keys = new Option<string?>("--keys") { Description = "privacy keys (noir keygen) to run the split under INDVocab + LTokenizer; needs client shards tuned with them (STuning) to give useful output" };
        var dynamicPrefix = new Option<bool>("--dynamic-prefix") { Description = "put a fresh random comment of up to 8 characters before the code (hardening, off by default)" };
        var json = CommonOptions.Json();
        var cmd = new Command("generate", "Generate code with the model, unsplit or split")
            { model, prompt, prefix, suffix, split, cloudShard, endpoint, apiKeyFile, wire, keys, dynamicPrefix, maxTokens, temperature, topP, stop, seed, json };
        cmd.SetAction(r =>
        {
            string dir = r.GetValue(model)!;
            string? text = r.GetValue(prompt), pre = r.GetValue(prefix), suf = r.GetValue(suffix);
            if ((text == null) == (pre == null && suf == null))
                throw new ArgumentException("give either --prompt, or --prefix and/or --suffix");
            var progress = CommonOptions.Progress();
            var options = new LoadOptions { Progress = progress };
            bool isClientShard = ShardManifest.TryLoad(dir) is { Role: ShardManifest.ClientRole };
            string? cloudDir = r.GetValue(cloudShard);
            string? keyDir = r.GetValue(keys), endpointList = r.GetValue(endpoint);
            if (cloudDir != null && endpointList != null) throw new ArgumentException("give either --cloud-shard or --endpoint, not both");
            bool splitMode = isClientShard || r.GetValue(split) != null || cloudDir != null || keyDir != null || endpointList != null;
            var wireDtype = ParseWire(r.GetValue(wire)!);
            if (r.GetValue(dynamicPrefix))
            {
                if (text != null) text = DynamicPrefix.ApplyToCode(text);
                else pre = DynamicPrefix.ApplyToCode(pre ?? "");
            }

            CodeTokenizer tokenizer;
            IInferenceSession session;
            string mode;
            int maxPositions;
            if (isClientShard && cloudDir == null && endpointList == null) throw new ArgumentException($"{dir} is a client shard: give --endpoint URL (or --cloud-shard DIR) for its middle blocks");
            var splitSpec = CommonOptions.ParseSplit(r.GetValue(split));
            if (splitMode)
            {
                var client = ClientModel.Load(dir, splitSpec, options, untieHead: keyDir != null);
                string fingerprint = ModelFingerprint.Of(dir);
                PrivacyKeys? privacyKeys = keyDir == null ? null : PrivacyKeys.Load(keyDir, fingerprint);
                IVocabularyMapping? mapping = privacyKeys?.ApplyTo(client);
                IMiddleSession middle;
                if (endpointList != null)
                {
                    // Everything bound for the endpoint passes the egress guard, which charges the user's ledger.
                    var guard = new EgressGuard(client.Config.HiddenSize, wireDtype, new ExposureLedger(ExposureLedger.DefaultFolder()),
                        ExposureLedger.WorkspaceId(Directory.GetCurrentDirectory()), privacyKeys?.Metadata.KeyId ?? "none");
                    var clientOptions = new EndpointClientOptions { Endpoints = EndpointClientOptions.ParseList(endpointList), ApiKey = ApiKeySource.Resolve(r.GetValue(apiKeyFile)), ReplyDtype = wireDtype };
                    middle = new RemoteMiddleSession(clientOptions, guard, fingerprint, client.Config.MaxPositions, client.Config.HiddenSize);
                    mode = $"split {client.Split} via {endpointList}";
                }
                else
                {
                    var cloud = CloudShard.Load(cloudDir ?? dir, client.Split, options);
                    if (cloud.Split != client.Split) throw new ArgumentException($"the client shard is split {client.Split} but the cloud shard {cloud.Split}");
                    if (cloudDir != null && ModelFingerprint.Of(cloudDir) != fingerprint)
                        throw new ArgumentException("the client and cloud shards come from different models");
                    middle = new LocalMiddleSession(cloud);
                    // In process too, the middle receives only what the egress guard admitted and encoded.
                    if (privacyKeys != null) middle = new GuardedMiddleSession(new EgressGuard(client.Config.HiddenSize, wireDtype, keyId: privacyKeys.Metadata.KeyId), middle);
                    mode = $"split {client.Split} (middle in this process)";
                }
                if (privacyKeys != null) mode += $", keys {privacyKeys.Metadata.KeyId} (ε = {privacyKeys.Metadata.Epsilon})";
                session = new SplitSession(client, middle, mapping);
                tokenizer = client.Tokenizer;
                maxPositions = client.Config.MaxPositions;
            }
            else
            {
                var full = CausalLM.Load(dir, options);
                session = new LocalSession(full);
                tokenizer = full.Tokenizer;
                mode = "local";
                maxPositions = full.Config.MaxPositions;
            }

            IReadOnlyList<int> ids;
            if (text != null) ids = tokenizer.Encode(text);
            else
            {
                var fim = tokenizer.Fim ?? throw new ArgumentException("this model's tokenizer has no fill-in-the-middle tokens; use --prompt");
                ids = fim.BuildPsm(tokenizer.Encode(pre ?? ""), tokenizer.Encode(suf ?? ""));
            }
            var result = TextGenerator.Generate(session, tokenizer, ids, new GenerationOptions
            {
                MaxTokens = r.GetValue(maxTokens), Temperature = r.GetValue(temperature), TopP = r.GetValue(topP),
                StopStrings = r.GetValue(stop) ?? Array.Empty<string>(), Seed = r.GetValue(seed), MaxSequenceLength = maxPositions,
            });
            session.Dispose();
            if (r.GetValue(json))
            {
                CliJson.Print(new JsonObject
                {
                    ["text"] = result.Text,
                    ["finish_reason"] = result.FinishReason,
                    ["prompt_tokens"] = result.PromptTokens,
                    ["generated_tokens"] = result.TokenIds.Count,
                    ["elapsed_ms"] = Math.Round(result.Elapsed.TotalMilliseconds, 1),
                    ["mode"] = mode,
                });
            }
            else
            {
                Console.Out.Write(result.Text);
                Console.Out.WriteLine();
                Console.Error.WriteLine($"[{mode}: {result.PromptTokens} prompt tokens, {result.TokenIds.Count} generated in {result.Elapsed.TotalMilliseconds:F0} ms, {result.FinishReason}]");
            }
            return 0;
        });
        return cmd;
    }
}
