using System.Globalization;
using NoirCode.Core.Model;
using NoirCode.Privacy.Keys;
using NoirCode.Privacy.Ledger;
using NoirCode.Remote;

namespace NoirCode.Sidecar.Lsp;

public sealed record ExposureLedgerArguments(int? Days);
public sealed record LedgerRow(string Day, string Key, long Tokens, long Bytes, long Requests);
public sealed record ExposureLedgerResult(LedgerRow[] Rows);
/// <param name="RetuneSteps">after re-keying a tuned shard, STuning steps on the workspace's code against the new key's
/// fresh endpoint adapter (0 or null: none; tune later)</param>
public sealed record RotateKeysArguments(string? KeysFolder, int? RetuneSteps = null);
/// <param name="ClientFolder">the re-keyed tuned shard (set noir.modelFolder to it), or null when the model was not tuned</param>
public sealed record RotateKeysResult(string KeysFolder, string KeyId, double Epsilon, string PreviousKeyId, string? ClientFolder, string AdapterId,
    int RetunedSteps = 0, long RetuneTokensSent = 0, string? RetuneNote = null);

/// <summary>
/// The privacy panel's workspace/executeCommand handlers: the exposure ledger per day and key (metadata only),
/// and key rotation (new keys with the same ε for the loaded model, in a new folder beside the old one; a tuned
/// shard re-keyed, and re-tuned on request).
/// </summary>
public static class PrivacyCommands
{
    public const string ExposureLedger = "noir.exposureLedger", RotateKeys = "noir.rotateKeys";

    /// <summary>What left this machine in the last <paramref name="days"/> days, per day and key, newest first.</summary>
    public static ExposureLedgerResult Ledger(ExposureLedger ledger, int days, DateTimeOffset now)
    {
        if (days is < 1 or > 366) throw new ArgumentException("days must be between 1 and 366");
        string since = Privacy.Ledger.ExposureLedger.Day(now.AddDays(1 - days));
        var rows = ledger.Totals()
            .Where(kv => string.CompareOrdinal(kv.Key.Day, since) >= 0)
            .GroupBy(kv => (kv.Key.Day, kv.Key.Key))
            .Select(g => g.Aggregate(default(ExposureCount), (a, kv) => a + kv.Value) is var c ? new LedgerRow(g.Key.Day, g.Key.Key, c.Tokens, c.Bytes, c.Requests) : null!)
            .OrderByDescending(r => r.Day, StringComparer.Ordinal).ThenBy(r => r.Key, StringComparer.Ordinal)
            .ToArray();
        return new ExposureLedgerResult(rows);
    }

    /// <summary>
    /// New keys for <paramref name="modelFolder"/> with the ε (and label) of the keys in <paramref name="keysFolder"/>,
    /// written to a new folder beside them (the old keys are kept); a tuned shard is re-keyed for them (<see cref="KeyRotation"/>).
    /// </summary>
    public static RotateKeysResult Rotate(string keysFolder, string modelFolder, DateTimeOffset now, Core.Util.IProgressSink? progress = null)
    {
        var r = KeyRotation.Rotate(keysFolder, modelFolder, now, progress);
        return new RotateKeysResult(r.KeysFolder, r.KeyId, r.Epsilon, r.PreviousKeyId, r.ClientFolder, r.AdapterId);
    }
}
