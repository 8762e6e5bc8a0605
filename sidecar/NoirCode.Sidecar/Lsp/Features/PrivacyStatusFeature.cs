using StreamJsonRpc;

namespace NoirCode.Sidecar.Lsp.Features;

/// <summary>
/// The privacy panel's commands: the exposure ledger per day and key (metadata only) and key rotation, with an
/// optional re-tune (<see cref="RotationRetune"/>). The status itself goes out as noir/privacyStatus
/// (<see cref="PrivacyStatusPublisher"/>) from whatever changes it.
/// </summary>
public sealed class PrivacyStatusFeature(ServerContext context) : ILanguageServerFeature
{
    public void Register(FeatureRegistry registry)
    {
        registry.Command(PrivacyCommands.ExposureLedger, (p, _) => Task.FromResult<object?>(PrivacyCommands.Ledger(context.Ledger.Value,
            CommandArguments.Optional<ExposureLedgerArguments>(p)?.Days ?? 14, DateTimeOffset.UtcNow)));
        registry.Command(PrivacyCommands.RotateKeys, async (p, cancel) => await RotateKeys(p, cancel));
    }

    async Task<RotateKeysResult> RotateKeys(ExecuteCommandParams p, CancellationToken cancel)
    {
        var args = CommandArguments.Optional<RotateKeysArguments>(p);
        if (args?.RetuneSteps is < 0 or > 100_000) throw new LocalRpcException("retuneSteps must be between 0 and 100000") { ErrorCode = -32602 };
        using var lease = await context.RequireRuntimeAsync(cancel);
        var runtime = lease.Runtime.Model;
        string keys = args?.KeysFolder is { Length: > 0 } k ? k : runtime.KeysFolder ?? context.Settings.KeysFolder
            ?? throw new LocalRpcException("no privacy keys are configured, so there are none to rotate") { ErrorCode = -32602 };
        var progress = context.Progress("NoirCode: generating privacy keys");
        try
        {
            var result = await Task.Run(() => PrivacyCommands.Rotate(keys, runtime.ModelFolder, DateTimeOffset.UtcNow, progress), cancel);
            ServerContext.Log($"new privacy keys {result.KeyId} (ε = {result.Epsilon}){(result.ClientFolder != null ? ", tuned shard re-keyed" : "")}");
            if (args?.RetuneSteps is > 0 && result.ClientFolder != null)
                result = await RotationRetune.Run(context, result, args.RetuneSteps.Value, runtime, progress, cancel);
            return result;
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ArgumentException or UnauthorizedAccessException or Privacy.Keys.KeyMismatchException)
        {
            throw new LocalRpcException(e.Message) { ErrorCode = -32603 };
        }
        finally { progress.End(); }
    }
}
