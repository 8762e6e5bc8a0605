using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using NoirCode.Remote;
using NoirCode.Privacy.Keys;

namespace NoirCode.Cli.Tests;

/// <summary>
/// Rotating a tuned set-up end to end, as a user would: noir keygen, noir tune against a real endpoint on loopback,
/// then noir privacy rotate-keys with a re-tune. New keys, the tuned shard re-keyed and re-tuned under them, a fresh
/// adapter on the endpoint for the new key (the old one left alone), and the ledger's record carried over.
/// </summary>
public class KeyRotationCliTests
{
    string _root = "";

    [SetUp]
    public void Folder() => _root = Directory.CreateTempSubdirectory("noir-rotation-cli-").FullName;

    [TearDown]
    public void Clean() => Directory.Delete(_root, recursive: true);

    [Test]
    public void RotatingATunedSetUpReKeysAndReTunesItAgainstAFreshEndpointAdapterAndKeepsTheLedger()
    {
        var (client, cloud, code) = SplitModelAndCode();
        string keys = Path.Combine(_root, "keys", "mine"), tuned = Path.Combine(_root, "tuned"), state = Path.Combine(_root, "endpoint-state");
        string oldKey = (string)NoirProcess.Ok("keygen", "--model", client, "--epsilon", "13", "--out", keys, "--json").Json["key_id"]!;
        var endpointLog = new ConcurrentQueue<string>();
        using var endpoint = EndpointServerProcess.Start(Path.Combine(AppContext.BaseDirectory, "noir.dll"),
            new[] { "--shard", cloud, "--host", "127.0.0.1", "--port", "0", "--state-dir", state }, onLogLine: endpointLog.Enqueue);
        string url = endpoint.Address.ToString();

        var tune = NoirProcess.Ok("tune", "--model", client, "--keys", keys, "--endpoint", url, "--data", code, "--out", tuned,
            "--steps", "2", "--batch", "1", "--seq", "32", "--json").Json;
        string oldAdapter = (string)tune["adapter_id"]!;
        Assert.That(oldAdapter, Is.EqualTo(TenantAdapterId.ForKey(oldKey)));
        Assert.That(File.Exists(AdapterFile(state, oldAdapter)), "the tuning trained the old key's adapter");
        byte[] oldAdapterBytes = File.ReadAllBytes(AdapterFile(state, oldAdapter));
        long oldKeyTokens = KeyTokens(oldKey);
        Assert.That(oldKeyTokens, Is.EqualTo(2 * 2 * 32), "tuning traffic is charged to the key: hidden states and gradients, 2 steps of 32 tokens");

        var rotation = NoirProcess.Ok("privacy", "rotate-keys", "--keys", keys, "--model", tuned, "--retune-data", code, "--endpoint", url,
            "--steps", "2", "--batch", "1", "--seq", "24", "--json").Json;

        string newKey = (string)rotation["key_id"]!, newKeys = (string)rotation["keys"]!, rekeyed = (string)rotation["client"]!;
        string newAdapter = (string)rotation["adapter_id"]!;
        Assert.That(newKey, Is.Not.EqualTo(oldKey));
        Assert.That((string)rotation["previous_key_id"]!, Is.EqualTo(oldKey));
        Assert.That(newAdapter, Is.Not.EqualTo(oldAdapter));
        // The endpoint saw the new adapter id, trained a fresh adapter under it and left the old one as it was.
        Assert.That(endpointLog, Has.Some.Contains($"adapter {newAdapter}"), "the endpoint was asked for the new adapter");
        Assert.That(File.ReadAllText(AdapterFile(state, newAdapter) + ".steps"), Is.EqualTo("2"), "a fresh adapter: the re-tune's 2 steps, not 2 more on the old one");
        Assert.That(File.ReadAllBytes(AdapterFile(state, oldAdapter)), Is.EqualTo(oldAdapterBytes), "the old key's adapter is untouched");
        // The re-keyed shard is tuned under the new keys and bound to them and to the new adapter.
        var binding = JsonNode.Parse(File.ReadAllText(Path.Combine(rekeyed, TunedShardBinding.FileName)))!;
        Assert.That((string)binding["key_id"]!, Is.EqualTo(newKey));
        Assert.That((string)binding["adapter_id"]!, Is.EqualTo(newAdapter));
        Assert.That((int)binding["steps"]!, Is.EqualTo(2));
        Assert.That((int)binding["window_tokens"]!, Is.EqualTo(32), "the longest window the decoder was tuned on: the first tuning's, not the re-tune's 24");
        var gen = NoirProcess.Ok("generate", "--model", rekeyed, "--keys", newKeys, "--endpoint", url, "--prompt", "def f(x):", "--max-tokens", "4", "--json").Json;
        Assert.That((string)gen["mode"]!, Does.Contain(newKey), "the rotated set-up completes through the endpoint");
        Assert.That(() => NoirProcess.Run("generate", "--model", rekeyed, "--keys", keys, "--endpoint", url, "--prompt", "x", "--max-tokens", "1").ExitCode,
            Is.Not.EqualTo(0), "the re-keyed shard refuses the old keys");
        // The ledger carries over: the old key's record stays, the new key's traffic is its own, and the status
        // of the new keys shows both.
        Assert.That(KeyTokens(oldKey), Is.EqualTo(oldKeyTokens), "the rotation leaves the old key's record as it was");
        Assert.That((long)rotation["retune_tokens_sent"]!, Is.EqualTo(2 * 2 * 24));
        Assert.That(KeyTokens(newKey), Is.GreaterThanOrEqualTo(2 * 2 * 24), "re-tune and completion, charged to the new key");
        var status = NoirProcess.Ok("privacy", "status", "--keys", newKeys, "--json").Json;
        Assert.That((string)status["previous_key_id"]!, Is.EqualTo(oldKey));
        Assert.That((long)status["previous_key_tokens_sent"]!, Is.EqualTo(oldKeyTokens));

        // noir tune rekey: the tuned shard moved to keys the user already has, its head re-indexed to their permutation
        // (row π_new(t) = old row π_old(t)), bound to them and to their own fresh adapter; the adapter is kept only
        // between demo keys, whose traffic is public anyway.
        string otherKeys = Path.Combine(_root, "keys", "other"), moved = Path.Combine(_root, "moved");
        string otherKey = (string)NoirProcess.Ok("keygen", "--model", client, "--epsilon", "13", "--homophones", "2", "--out", otherKeys, "--json").Json["key_id"]!;
        var linked = NoirProcess.Run("tune", "rekey", "--model", tuned, "--keys", keys, "--to-keys", otherKeys, "--out", moved, "--keep-adapter");
        Assert.That(linked.ExitCode, Is.Not.EqualTo(0));
        Assert.That(linked.Stderr, Does.Contain("for demo keys only"));
        Assert.That(NoirProcess.Run("tune", "rekey", "--model", tuned, "--keys", otherKeys, "--to-keys", keys, "--out", moved).Stderr,
            Does.Contain("was tuned with keys"), "the keys it was tuned with, not others");
        NoirProcess.Ok("tune", "rekey", "--model", tuned, "--keys", keys, "--to-keys", otherKeys, "--out", moved);
        var movedBinding = JsonNode.Parse(File.ReadAllText(Path.Combine(moved, TunedShardBinding.FileName)))!;
        Assert.That((string)movedBinding["key_id"]!, Is.EqualTo(otherKey));
        Assert.That((string)movedBinding["adapter_id"]!, Is.EqualTo(TenantAdapterId.ForKey(otherKey)));
        Assert.That((int)movedBinding["steps"]!, Is.EqualTo(0), "new tables the decoder has not seen: tune it again");
        Assert.That((int)movedBinding["window_tokens"]!, Is.EqualTo(32), "the decoder's positions are what they were");
        var config = Core.Model.ModelConfig.Load(moved);
        float[] Head(string folder) => Core.Weights.WeightFolder.Open(folder).ReadFloats(Core.Model.ModelLayout.LmHead, Core.Model.ModelLayout.EmbeddingShape(config)).Values;
        float[] before = Head(tuned), after = Head(moved);
        string fingerprint = Core.Model.ModelFingerprint.Of(tuned);
        var from = PrivacyKeys.Load(keys, fingerprint).Permutation;
        var to = PrivacyKeys.Load(otherKeys, fingerprint).Permutation;
        int m = config.HiddenSize;
        foreach (int t in new[] { 0, 1, 77, config.VocabSize - 1 })
            Assert.That(after.AsSpan(to.ToIndex(t) * m, m).SequenceEqual(before.AsSpan(from.ToIndex(t) * m, m)), Is.True, $"token {t}'s head row moved with it");
        var movedGen = NoirProcess.Ok("generate", "--model", moved, "--keys", otherKeys, "--endpoint", url, "--prompt", "def f(x):", "--max-tokens", "2", "--json").Json;
        Assert.That((string)movedGen["mode"]!, Does.Contain(otherKey));

        // A re-tune that cannot reach the endpoint loses nothing: the rotation stands, and the answer says where
        // its keys and shard are and how to tune later.
        endpoint.KillHard();
        var failed = NoirProcess.Run("privacy", "rotate-keys", "--keys", newKeys, "--model", rekeyed, "--retune-data", code, "--endpoint", url,
            "--steps", "2", "--batch", "1", "--seq", "32", "--json");
        Assert.That(failed.ExitCode, Is.EqualTo(1), failed.Stderr);
        Assert.That(failed.Stderr, Does.Contain("the keys were rotated, but the re-tune failed"));
        var kept = failed.Json;
        Assert.That(Directory.Exists((string)kept["keys"]!) && Directory.Exists((string)kept["client"]!), Is.True);
        Assert.That((string)kept["next"]!, Does.StartWith("noir tune --model " + (string)kept["client"]!));
        Assert.That((string)kept["previous_key_id"]!, Is.EqualTo(newKey));
    }

    [Test]
    public void EachTuningRunDrawsItsOwnSamplerSeedAndAResumedRunKeepsIt()
    {
        var (client, cloud, code) = SplitModelAndCode();
        string keys = Path.Combine(_root, "keys");
        NoirProcess.Ok("keygen", "--model", client, "--epsilon", "13", "--out", keys);
        using var endpoint = EndpointServerProcess.Start(Path.Combine(AppContext.BaseDirectory, "noir.dll"),
            new[] { "--shard", cloud, "--host", "127.0.0.1", "--port", "0", "--state-dir", Path.Combine(_root, "endpoint-state") });
        int Seed(string model, string outDir, int steps) => (int)NoirProcess.Ok("tune", "--model", model, "--keys", keys, "--endpoint", endpoint.Address.ToString(),
            "--data", code, "--out", outDir, "--steps", steps.ToString(), "--batch", "1", "--seq", "32", "--json").Json["seed"]!;

        string first = Path.Combine(_root, "first"), second = Path.Combine(_root, "second");
        int firstSeed = Seed(client, first, 1);
        // Two runs on the same code in the same order would hand the cloud their cipher streams aligned.
        Assert.That(Seed(client, second, 1), Is.Not.EqualTo(firstSeed), "each fresh run draws its own windows");
        Assert.That(Seed(first, first, 2), Is.EqualTo(firstSeed), "a resumed run draws on from where it stopped");
    }

    /// <summary>A tiny random model split into client and cloud folders, and a folder of code to tune on.</summary>
    (string Client, string Cloud, string Code) SplitModelAndCode()
    {
        string model = Path.Combine(_root, "model"), client = Path.Combine(_root, "client"), cloud = Path.Combine(_root, "cloud");
        string code = Path.Combine(_root, "code");
        Directory.CreateDirectory(code);
        File.WriteAllText(Path.Combine(code, "lib.py"), string.Concat(Enumerable.Range(0, 40).Select(i => $"def f{i}(x):\n    return x * {i} + len(str(x))\n\n")));
        NoirProcess.Ok("model", "init-random", "--preset", "tiny", "--out", model);
        NoirProcess.Ok("split", "--model", model, "--client-out", client, "--cloud-out", cloud);
        return (client, cloud, code);
    }

    static string AdapterFile(string state, string adapterId) => Path.Combine(state, "tenants", "local", "adapters", adapterId, "adapter.safetensors");

    static long KeyTokens(string keyId) =>
        NoirProcess.Ok("privacy", "ledger", "--json").Json["rows"]!.AsArray().Where(r => (string)r!["key"]! == keyId).Sum(r => (long)r!["tokens"]!);
}
