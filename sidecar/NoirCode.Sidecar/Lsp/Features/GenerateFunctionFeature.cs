using System.Diagnostics;
using System.Text.Json;
using NoirCode.Core.Generation;
using StreamJsonRpc;

namespace NoirCode.Sidecar.Lsp.Features;

/// <summary>
/// The noir.generateFunction command: the body of the Python function whose signature is at or above the cursor,
/// and where it goes (<see cref="FunctionGenerator"/>), generated on the runtime's session with completions held off.
/// </summary>
public sealed class GenerateFunctionFeature(ServerContext context) : ILanguageServerFeature
{
    public const string Command = "noir.generateFunction";

    public void Register(FeatureRegistry registry) => registry.Command(Command, async (p, cancel) => await GenerateFunction(p, cancel));

    async Task<GeneratedFunction?> GenerateFunction(ExecuteCommandParams p, CancellationToken cancel)
    {
        if (p.Arguments is not { Length: 1 }) throw new LocalRpcException("noir.generateFunction takes one argument {uri, position | range, instruction?}") { ErrorCode = -32602 };
        GenerateFunctionArguments? args;
        try { args = p.Arguments[0].Deserialize<GenerateFunctionArguments>(LspJson.Options); }
        catch (JsonException e) { throw new LocalRpcException("invalid params: " + e.Message) { ErrorCode = -32602 }; }
        if (args == null) throw new LocalRpcException("missing arguments") { ErrorCode = -32602 };
        ParamsCheck.Require(args.Uri, "arguments[0].uri");
        if (args.Position != null) ParamsCheck.Valid(args.Position, "arguments[0].position");
        else if (args.Range != null) ParamsCheck.Valid(args.Range, "arguments[0].range");
        if (context.Documents.Get(args.Uri) is not { } doc) throw new LocalRpcException($"document {args.Uri} is not open") { ErrorCode = -32602 };
        if (doc.TooLarge) throw new LocalRpcException($"the document is over {DocumentStore.MaxDocumentChars:N0} characters: its text is not kept") { ErrorCode = -32803 };
        if (context.Sensitive.IsSensitive(args.Uri, doc.Text)) throw new LocalRpcException("this file is marked sensitive: nothing is sent for it") { ErrorCode = -32803 };
        using var lease = await context.RequireRuntimeAsync(cancel);
        var runtime = lease.Runtime;
        var model = runtime.Model;
        var settings = context.Settings;
        var position = args.Position ?? args.Range?.Start ?? throw new LocalRpcException("give a position or a range") { ErrorCode = -32602 };
        var plan = FunctionGenerator.PlanFor(doc.Text, DocumentStore.Offset(doc.Text, position), args.Instruction)
            ?? throw new LocalRpcException("no Python function signature (def ...:) at or above the cursor") { ErrorCode = -32602 };
        var engine = runtime.Engine;
        // The prefix ends in the body's indentation, a token the model rarely sees before code: it is healed (TokenHealing).
        var prompt = engine.Prompts.Build(plan.Prefix, plan.Suffix, FunctionGenerator.PromptShapeFor(model.MaxPositions, settings.TokenHealing));
        var before = model.Remote?.Total ?? default;
        var clock = Stopwatch.StartNew();
        var options = new GenerationOptions { MaxTokens = FunctionGenerator.MaxBodyTokens, MaxSequenceLength = model.MaxPositions, Speculation = settings.SpeculativeDecoding ? new SpeculationOptions() : null };
        string generated = await Task.Run(() => engine.Exclusive(session => prompt.Healed.Length > 0
            ? engine.Prompts.Healing.Generate(session, model.Tokenizer, prompt.Ids, prompt.Healed, options, cancel)?.Text ?? ""
            : TextGenerator.Generate(session, model.Tokenizer, prompt.Ids, options, cancel).Text), cancel);
        // What the generation sent shows in the status like a completion's.
        var after = model.Remote?.Total ?? default;
        context.Status.Publish(context.Status.For(runtime) with
        {
            Detail = runtime.Description,
            Last = new LastRequest(after.Tokens - before.Tokens, after.BytesUp - before.BytesUp, Math.Round(clock.Elapsed.TotalMilliseconds, 1), "generate function"),
        });
        string body = FunctionGenerator.CutAtDedent(generated, plan.BodyIndent);
        var at = DocumentStore.PositionOf(doc.Text, plan.InsertOffset);
        return new GeneratedFunction(body, new Range(at, at));
    }
}
