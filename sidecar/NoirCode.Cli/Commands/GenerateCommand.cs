using System.CommandLine;
using System.Text.Json.Nodes;
using NoirCode.Core.Generation;
using NoirCode.Core.Model;
using NoirCode.Core.Tokenization;
using NoirCode.Privacy;
using NoirCode.Privacy.Egress;
using NoirCode.Privacy.Keys;

namespace NoirCode.Cli.Commands;

/// <summary><c>noir generate</c>: a completion from a prompt, or fill-in-the-middle from a prefix and suffix.</summary>
public static class GenerateCommand
{
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
        var keys = new Option<string?>("--keys") { Description = "privacy keys (noir keygen) to run the split under INDVocab + LTokenizer; needs client shards tuned with them (STuning) to give useful output" };
        var dynamicPrefix = new Option<bool>("--dynamic-prefix") { Description = "put a fresh random comment of up to 8 characters before the code (hardening, off by default)" };
        var json = CommonOptions.Json();
        var cmd = new Command("generate", "Generate code with the model, unsplit or split")
            { model, prompt, prefix, suffix, split, cloudShard, keys, dynamicPrefix, maxTokens, temperature, topP, stop, seed, json };
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
            string? keyDir = r.GetValue(keys);
            bool splitMode = isClientShard || r.GetValue(split) != null || cloudDir != null || keyDir != null;
            if (r.GetValue(dynamicPrefix))
            {
                if (text != null) text = DynamicPrefix.ApplyToCode(text);
                else pre = DynamicPrefix.ApplyToCode(pre ?? "");
            }

            CodeTokenizer tokenizer;
            IInferenceSession session;
            string mode;
            int maxPositions;
            if (isClientShard && cloudDir == null) throw new ArgumentException($"{dir} is a client shard: give --cloud-shard DIR with its cloud shard");
            var splitSpec = CommonOptions.ParseSplit(r.GetValue(split));
            if (splitMode)
            {
                var client = ClientModel.Load(dir, splitSpec, options, untieHead: keyDir != null);
                var cloud = CloudShard.Load(cloudDir ?? dir, client.Split, options);
                if (cloud.Split != client.Split) throw new ArgumentException($"the client shard is split {client.Split} but the cloud shard {cloud.Split}");
                if (cloudDir != null && ModelFingerprint.Of(cloudDir) != ModelFingerprint.Of(dir))
                    throw new ArgumentException("the client and cloud shards come from different models");
                IMiddleSession middle = new LocalMiddleSession(cloud);
                IVocabularyMapping? mapping = null;
                mode = $"split {client.Split} (middle in this process)";
                if (keyDir != null)
                {
                    var privacyKeys = PrivacyKeys.Load(keyDir, ModelFingerprint.Of(dir));
                    mapping = privacyKeys.ApplyTo(client);
                    // Everything bound for the middle passes the egress guard, as it will for a remote endpoint.
                    middle = new GuardedMiddleSession(new EgressGuard(client.Config.HiddenSize, keyId: privacyKeys.Metadata.KeyId), middle);
                    mode += $", keys {privacyKeys.Metadata.KeyId} (ε = {privacyKeys.Metadata.Epsilon})";
                }
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
