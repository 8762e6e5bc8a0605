using StreamJsonRpc;

namespace NoirCode.Sidecar.Lsp.Features;

/// <summary>
/// The noir.promptSecurityReport command: what the cloud could reconstruct from the hidden states a completion
/// at the cursor sends (<see cref="PromptSecurity"/>). The attacks are the host's (<see cref="PromptSecurityReporter"/>):
/// the attack harness is no part of the sidecar.
/// </summary>
public sealed class SecurityReportFeature(ServerContext context, PromptSecurityReporter? reporter) : ILanguageServerFeature
{
    public void Register(FeatureRegistry registry) => registry.Command(PromptSecurity.Command, async (p, cancel) => await PromptSecurityReport(p, cancel));

    static LocalRpcException Unavailable(string why) => new(why) { ErrorCode = -32803 };

    async Task<PromptSecurityResult> PromptSecurityReport(ExecuteCommandParams p, CancellationToken cancel)
    {
        var args = CommandArguments.Optional<PromptSecurityArguments>(p)
            ?? throw new LocalRpcException($"{PromptSecurity.Command} takes one argument {{uri, position}}") { ErrorCode = -32602 };
        ParamsCheck.Require(args.Uri, "arguments[0].uri");
        ParamsCheck.Valid(args.Position, "arguments[0].position");
        if (context.Documents.Get(args.Uri) is not { } doc) throw new LocalRpcException($"document {args.Uri} is not open") { ErrorCode = -32602 };
        if (doc.TooLarge) throw Unavailable($"the document is over {DocumentStore.MaxDocumentChars:N0} characters: its text is not kept");
        if (context.Sensitive.IsSensitive(args.Uri, doc.Text)) throw Unavailable("this file is marked sensitive: nothing of it is sent, so the cloud has nothing to attack");
        using var lease = await context.RequireRuntimeAsync(cancel);
        var model = lease.Runtime.Model;
        if (model.Remote == null) throw Unavailable("completions run on this machine (local mode): nothing is sent");
        if (reporter == null) throw Unavailable("this sidecar has no attack harness");
        string publicModel = model.PublicModelFolder ?? context.Settings.LocalModelFolder
            ?? throw Unavailable("the report needs the public model the attacker is assumed to hold: set localModelFolder to the whole model");
        var request = PromptSecurity.Request(publicModel, model.ModelFolder, model.KeysFolder, lease.Runtime.Engine, doc.Text, DocumentStore.Offset(doc.Text, args.Position));
        if (request.PromptText.Length == 0) throw Unavailable("there is no text around the cursor");
        var progress = context.Progress("NoirCode: security report (the cloud's attacks, run here)");
        try
        {
            progress.Report("attacking the prompt", 0, 1);
            var result = await Task.Run(() => reporter(request, cancel), cancel);
            ServerContext.Log($"security report: {result.Tokens} tokens, cloud {(result.CloudWins ? "wins" : "loses")}");
            return result;
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ArgumentException or Core.Util.ModelLoadException)
        {
            throw new LocalRpcException("the security report failed: " + e.Message) { ErrorCode = -32603 };
        }
        finally { progress.End(); }
    }
}
