using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Privacy.Egress;
using NoirCode.Privacy.Keys;
using NoirCode.Privacy.Ledger;
using NoirCode.Remote;
using NoirCode.Protocol;
using NoirCode.STuning;

namespace NoirCode.Sidecar;

/// <summary>What a re-tune did: its steps, the loss of each, and the tokens it sent under the new key.</summary>
public sealed record RetuneResult(int Steps, IReadOnlyList<double> Losses, long TokensSent, string AdapterId);

/// <summary>
/// The re-tune after a rotation: STuning of the re-keyed client shard under the new keys, in place, against the
/// endpoint's fresh adapter for them, on the user's code. Its traffic is charged to the new key like any other
/// (and stopped by its budget, exactly, when one is given): tuning sends the same cipher that inference does.
/// </summary>
public static class Retune
{
    static readonly string[] CodeExtensions = { ".py" };
    const long MaxCorpusChars = 16 << 20;
    /// <summary>Folders of other people's code or of tools, not the user's: never tuned on.</summary>
    static readonly HashSet<string> SkippedFolders = new(StringComparer.Ordinal) { ".git", "node_modules", ".venv", "venv", "__pycache__", "site-packages", ".tox", "build", "dist" };

    static IEnumerable<string> CodeFiles(string folder)
    {
        var options = new EnumerationOptions { RecurseSubdirectories = false, AttributesToSkip = FileAttributes.ReparsePoint }; // no symlinks out of the folder
        foreach (var f in Directory.EnumerateFiles(folder, "*", options).Order(StringComparer.Ordinal))
            if (CodeExtensions.Contains(Path.GetExtension(f))) yield return f;
        foreach (var d in Directory.EnumerateDirectories(folder, "*", options).Order(StringComparer.Ordinal))
            if (!SkippedFolders.Contains(Path.GetFileName(d)))
                foreach (var f in CodeFiles(d)) yield return f;
    }

    /// <param name="mayTuneOn">which files of the data folder may be sent (the workspace's secret-file rules); null: all</param>
    public static RetuneResult Run(string clientFolder, string keysFolder, EndpointClientOptions endpoint, string dataFolder, TuneSettings settings,
        ExposureLedger ledger, string workspaceId, ExposureBudget? budget, Core.Util.IProgressSink progress, Func<string, string, bool>? mayTuneOn = null)
    {
        if (!Directory.Exists(dataFolder)) throw new IOException($"data folder {dataFolder} does not exist");
        var docs = new List<string>();
        long chars = 0;
        foreach (var f in CodeFiles(dataFolder))
        {
            string text = File.ReadAllText(f);
            if (text.Length == 0 || !(mayTuneOn?.Invoke(f, text) ?? true)) continue;
            docs.Add(text);
            // A re-tune takes a few thousand samples at most: the first files up to this much are plenty.
            if ((chars += text.Length) > MaxCorpusChars) break;
        }
        if (docs.Count == 0) throw new ArgumentException($"no code files ({string.Join(", ", CodeExtensions)}) to tune on in {dataFolder}");
        var client = ClientModel.Load(clientFolder, null, new LoadOptions { Progress = progress }, untieHead: true);
        string fingerprint = ModelFingerprint.Of(clientFolder);
        var keys = PrivacyKeys.Load(keysFolder, fingerprint);
        keys.ApplyTo(client);
        var options = endpoint with { AdapterId = TenantAdapterId.ForClient(clientFolder, keys.Metadata) };
        // A fresh sampling seed: the old key's tuning on the same samples in the same order would hand the cloud the
        // two cipher streams aligned, position by position (a known-plaintext start on the new key).
        settings = settings with { Seed = System.Security.Cryptography.RandomNumberGenerator.GetInt32(1, 1 << 20) };
        long before = ledger.Sum(k => k.Key == keys.Metadata.KeyId).Tokens;
        using var guard = new EgressGuard(client.Config.HiddenSize, WireDtype.Float32, ledger, workspaceId, keys.Metadata.KeyId, budget);
        List<double> losses;
        using (var remote = new RemoteTrainingSession(options, guard, fingerprint, client.Config.HiddenSize))
            losses = new SplitFineTuner(client, keys, remote, clientFolder).Run(docs, settings, progress, clientFolder);
        guard.Settle();
        return new RetuneResult(settings.Steps, losses, ledger.Sum(k => k.Key == keys.Metadata.KeyId).Tokens - before, options.AdapterId);
    }
}
