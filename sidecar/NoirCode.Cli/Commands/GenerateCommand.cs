using System.CommandLine;
using System.Text.Json.Nodes;
using NoirCode.Core.Generation;
using NoirCode.Privacy;

namespace NoirCode.Cli.Commands;

/// <summary><c>noir generate</c>: a completion from a prompt, or fill-in-the-middle from a prefix and suffix.</summary>
public static class GenerateCommand
{
    public static Command Create()
    {
        var runtime = new ModelRuntimeOptions();
        var prompt = new Option<string?>("--prompt") { Description = "text to continue" };
        var prefix = new Option<string?>("--prefix") { Description = "code before the cursor (fill-in-the-middle)" };
        var suffix = new Option<string?>("--suffix") { Description = "code after the cursor (fill-in-the-middle)" };
        var maxTokens = new Option<int>("--max-tokens") { Description = "most tokens to generate", DefaultValueFactory = _ => 64 };
        var temperature = new Option<double>("--temperature") { Description = "0 = greedy", DefaultValueFactory = _ => 0 };
        var topP = new Option<double>("--top-p") { Description = "nucleus sampling mass", DefaultValueFactory = _ => 1.0 };
        var stop = new Option<string[]>("--stop") { Description = "stop string (repeatable)", AllowMultipleArgumentsPerToken = false };
        var seed = new Option<int?>("--seed") { Description = "sampling seed" };
        var dynamicPrefix = new Option<bool>("--dynamic-prefix") { Description = "put a fresh random comment of up to 8 characters before the code (hardening, off by default)" };
        var noSpeculation = new Option<bool>("--no-speculation") { Description = "one token per step: no drafts verified from the prompt (speculative decoding is on by default: greedy, it gives the same tokens in fewer round trips; sampling, tokens from the same distribution; the rejected drafts are sent too)" };
        var draftTokens = new Option<int>("--draft-tokens") { Description = "most drafted tokens verified per step", DefaultValueFactory = _ => new SpeculationOptions().DraftTokens };
        var json = CommonOptions.Json();
        var cmd = new Command("generate", "Generate code with the model, unsplit or split") { prompt, prefix, suffix, dynamicPrefix, maxTokens, temperature, topP, stop, seed, noSpeculation, draftTokens, json };
        runtime.AddTo(cmd);
        cmd.SetAction(r =>
        {
            string? text = r.GetValue(prompt), pre = r.GetValue(prefix), suf = r.GetValue(suffix);
            if ((text == null) == (pre == null && suf == null))
                throw new ArgumentException("give either --prompt, or --prefix and/or --suffix");
            if (r.GetValue(dynamicPrefix))
            {
                if (text != null) text = DynamicPrefix.ApplyToCode(text);
                else pre = DynamicPrefix.ApplyToCode(pre ?? "");
            }
            using var model = runtime.Build(r);
            var tokenizer = model.Tokenizer;
            IReadOnlyList<int> ids;
            if (text != null) ids = tokenizer.Encode(text);
            else
            {
                var fim = tokenizer.Fim ?? throw new ArgumentException("this model's tokenizer has no fill-in-the-middle tokens; use --prompt");
                ids = fim.BuildPsm(tokenizer.Encode(pre ?? ""), tokenizer.Encode(suf ?? ""));
            }
            var result = TextGenerator.Generate(model.Session, tokenizer, ids, new GenerationOptions
            {
                MaxTokens = r.GetValue(maxTokens), Temperature = r.GetValue(temperature), TopP = r.GetValue(topP),
                StopStrings = r.GetValue(stop) ?? Array.Empty<string>(), Seed = r.GetValue(seed), MaxSequenceLength = model.MaxPositions,
                Speculation = r.GetValue(noSpeculation) ? null : new SpeculationOptions { DraftTokens = r.GetValue(draftTokens) },
            });
            var o = new JsonObject
            {
                ["text"] = result.Text,
                ["finish_reason"] = result.FinishReason,
                ["prompt_tokens"] = result.PromptTokens,
                ["generated_tokens"] = result.TokenIds.Count,
                ["elapsed_ms"] = Math.Round(result.Elapsed.TotalMilliseconds, 1),
                ["mode"] = model.Mode,
            };
            if (result.Speculation is { } spec)
                o["speculation"] = new JsonObject
                {
                    ["steps"] = spec.Trips, ["positions_sent"] = spec.PositionsSent, ["drafted"] = spec.Drafted, ["accepted"] = spec.Accepted,
                    ["tokens_per_step"] = Math.Round(spec.TokensPerTrip, 3), ["extra_sent_per_token"] = Math.Round(spec.ExtraPerToken, 3),
                };
            if (model.Remote is { Total.Tokens: > 0 } remote)
            {
                o["bytes_sent"] = remote.Total.BytesUp;
                o["bytes_received"] = remote.Total.BytesDown;
                o["bytes_per_token_sent"] = (double)remote.Total.BytesUp / remote.Total.Tokens;
            }
            if (r.GetValue(json)) CliJson.Print(o);
            else
            {
                Console.Out.Write(result.Text);
                Console.Out.WriteLine();
                string traffic = o["bytes_sent"] is { } sent ? $", {sent} bytes sent ({o["bytes_per_token_sent"]} per token)" : "";
                string steps = result.Speculation is { Trips: > 0 } sp ? $", speculative: {sp.TokensPerTrip:F2} tokens per step, {sp.ExtraPerToken:F2} extra sent per token" : "";
                Console.Error.WriteLine($"[{model.Mode}: {result.PromptTokens} prompt tokens, {result.TokenIds.Count} generated in {result.Elapsed.TotalMilliseconds:F0} ms, {result.FinishReason}{traffic}{steps}]");
            }
            return 0;
        });
        return cmd;
    }
}
