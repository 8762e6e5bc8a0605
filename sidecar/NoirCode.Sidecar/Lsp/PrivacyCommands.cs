using System.Globalization;
using NoirCode.Core.Model;
using NoirCode.Privacy.Keys;
using NoirCode.Privacy.Ledger;
using NoirCode.Remote;

namespace NoirCode.Sidecar.Lsp;

public sealed record ExposureLedgerArguments(int? Days);
public sealed record LedgerRow(string Day, string Key, long Tokens, long Bytes, long Requests);
public sealed record ExposureLedgerResult(LedgerRow[] Rows);
public sealed record RotateKeysArguments(string KeysFolder);
public sealed record RotateKeysResult(string KeysFolder, string KeyId, double Epsilon);

/// <summary>
/// The privacy panel's workspace/executeCommand handlers: the exposure ledger per day and key (metadata only),
/// and key rotation (new keys with the same ε for the loaded model, in a new folder beside the old one).
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
    /// written to a new folder beside them; the old keys are kept (keys are never overwritten).
    /// </summary>
    public static RotateKeysResult Rotate(string keysFolder, string modelFolder, DateTimeOffset now, Core.Util.IProgressSink? progress = null)
    {
        var old = PrivacyKeys.ReadMetadata(keysFolder);
        if (File.Exists(Path.Combine(modelFolder, SplitFineTuner.BindingFile)))
            throw new InvalidOperationException($"{modelFolder} was tuned with the current keys; new keys need a new tuning: run noir keygen, then noir tune with them");
        string fingerprint = ModelFingerprint.Of(modelFolder);
        if (fingerprint != old.ModelFingerprint) throw new InvalidOperationException("the current keys belong to another model than the one loaded");
        var config = ModelConfig.Load(modelFolder);
        var (embedding, dtype) = PrivacyKeys.ReadEmbedding(modelFolder, config);
        string label = old.Demo ? "private" : old.Label;
        var (keys, _) = PrivacyKeys.Generate(embedding, config, fingerprint, old.Epsilon, label, progress: progress, tableDtype: dtype);
        string baseName = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(keysFolder)));
        int dash = baseName.LastIndexOf("-rotated-", StringComparison.Ordinal);
        if (dash > 0) baseName = baseName[..dash];
        string target = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(keysFolder).TrimEnd('/'))!,
            $"{baseName}-rotated-{now.UtcDateTime.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}");
        if (Directory.Exists(target)) throw new IOException($"{target} exists already; try again in a second");
        keys.Save(target);
        return new RotateKeysResult(target, keys.Metadata.KeyId, old.Epsilon);
    }
}
