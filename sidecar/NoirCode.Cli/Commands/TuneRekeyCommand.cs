using System.CommandLine;
using NoirCode.Core.Model;
using NoirCode.Privacy.Keys;
using NoirCode.Remote;
using NoirCode.STuning;

namespace NoirCode.Cli.Commands;

/// <summary>
/// <c>noir tune rekey</c>: a tuned client shard moved to other keys of the same model (its head re-indexed to their
/// permutation, its blocks kept as the warm start), for a re-tune that starts from it instead of from the public model.
/// Rotation does the same with keys it makes itself; this takes keys you already have (e.g. a rebuilt demo bundle).
/// </summary>
public static class TuneRekeyCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model("the tuned client shard");
        var keys = new Option<string>("--keys") { Description = "the keys it was tuned with", Required = true };
        var toKeys = new Option<string>("--to-keys") { Description = "the keys to move it to", Required = true };
        var output = new Option<string>("--out") { Description = "new folder for the re-keyed shard (owner-only)", Required = true };
        var keepAdapter = new Option<bool>("--keep-adapter") { Description = "keep the shard's endpoint adapter (its LoRA) as the re-tune's warm start, instead of the new keys' fresh one; the endpoint then links the two keys, so only for keys that are public anyway" };
        var cmd = new Command("rekey", "Move a tuned client shard to other keys of the same model (head re-indexed, blocks kept) for a warm-started re-tune")
            { model, keys, toKeys, output, keepAdapter };
        cmd.SetAction(r =>
        {
            string tuned = r.GetValue(model)!, outDir = r.GetValue(output)!;
            if (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any()) throw new IOException($"{outDir} is not empty; choose a new folder");
            if (TunedShardBinding.AdapterId(tuned) is not { } adapter) throw new ArgumentException($"{tuned} is not a tuned shard ({TunedShardBinding.FileName} is missing): give new keys to noir tune directly");
            string fingerprint = ModelFingerprint.Of(tuned);
            var from = PrivacyKeys.Load(r.GetValue(keys)!, fingerprint);
            var to = PrivacyKeys.Load(r.GetValue(toKeys)!, fingerprint);
            TunedShardBinding.Check(tuned, from.Metadata.KeyId);
            if (r.GetValue(keepAdapter) && !(from.Metadata.Demo && to.Metadata.Demo))
                throw new ArgumentException("--keep-adapter lets the endpoint link the two keys' traffic: it is for demo keys only");
            string adapterId = r.GetValue(keepAdapter) ? adapter : TenantAdapterId.ForKey(to.Metadata.KeyId);
            TunedShardRekey.Write(tuned, outDir, from.Permutation, to, adapterId);
            Console.Error.WriteLine($"re-keyed {tuned} from keys {from.Metadata.KeyId} to {to.Metadata.KeyId} ({to.Metadata.Homophones} table(s) per token) into {outDir}; tune it with: noir tune --model {outDir} --keys {r.GetValue(toKeys)} --out NEW_FOLDER --endpoint URL --data CODE");
            return 0;
        });
        return cmd;
    }
}
