using System.Text.Json;
using NoirCode.Privacy.Ledger;
using NoirCode.Testing.Lsp;
using NoirCode.Testing.Models;

namespace NoirCode.Sidecar.Tests;

/// <summary>
/// The at-limit flow on the embedded default, over LSP as the editor drives it: the demo set-up (demo keys, the
/// client tuned for them, the local endpoint with their LoRA) is rotated with a re-tune. New private keys, the tuned
/// client re-keyed and re-tuned on the workspace's code against a fresh adapter on the endpoint (the demo's left as
/// it was), and once the settings point at them, completions run under the new keys against the measured budget for
/// private keys, with the re-tune charged to them and the demo keys' record kept.
/// </summary>
public class DemoRotationTests
{
    [Test]
    public async Task RotatingTheDemoSetUpWithARetuneRunsUnderNewKeysAndAFreshAdapter()
    {
        string root = Directory.CreateTempSubdirectory("noir-demo-rotation-").FullName;
        File.WriteAllText(Path.Combine(root, "stats.py"), string.Concat(Enumerable.Range(0, 30).Select(i =>
            $"def mean_{i}(values):\n    total = 0\n    for value in values:\n        total += value * {i}\n    return total / len(values)\n\n")));
        string cache = Path.Combine(root, "cache"), ledgerFolder = Path.Combine(root, "ledger");
        var sidecar = LspProcess.Start(new Dictionary<string, string> { ["XDG_CACHE_HOME"] = cache, ["NOIR_LEDGER_DIR"] = ledgerFolder });
        try
        {
            await sidecar.InitializeAsync(new { }, root);
            var demo = sidecar.WaitForStatus(s => s.GetProperty("mode").GetString() is "split" or "error", 180);
            Assert.That(demo.GetProperty("demo").GetBoolean(), Is.True, demo.ToString());
            await sidecar.Open("stats.py", File.ReadAllText(Path.Combine(root, "stats.py")));
            await sidecar.Complete("stats.py", 3, 8);
            long demoTokens = sidecar.WaitForStatus(s => s.TryGetProperty("last", out _)).GetProperty("exposureUsed").GetInt64();
            Assert.That(demoTokens, Is.GreaterThan(10), "the demo keys were charged");
            string demoAdapter = Directory.GetFiles(cache, "adapter.safetensors", SearchOption.AllDirectories).Single();
            byte[] demoAdapterBytes = File.ReadAllBytes(demoAdapter);

            var rotated = await sidecar.InvokeAsync("workspace/executeCommand",
                new { command = "noir.rotateKeys", arguments = new object[] { new { retuneSteps = 2 } } });

            string keys = rotated.GetProperty("keysFolder").GetString()!, client = rotated.GetProperty("clientFolder").GetString()!;
            string adapterId = rotated.GetProperty("adapterId").GetString()!;
            Assert.That(rotated.GetProperty("retunedSteps").GetInt32(), Is.EqualTo(2), rotated.ToString());
            Assert.That(rotated.GetProperty("retuneTokensSent").GetInt64(), Is.EqualTo(2 * 2 * 2 * 128), "2 steps of 2 samples of 128 tokens, hidden states and gradients");
            string fresh = Path.Combine(Path.GetDirectoryName(demoAdapter)!, "adapters", adapterId, "adapter.safetensors");
            Assert.That(File.ReadAllText(fresh + ".steps"), Is.EqualTo("2"), "the endpoint trained a fresh adapter for the new key");
            Assert.That(File.ReadAllBytes(demoAdapter), Is.EqualTo(demoAdapterBytes), "the demo keys' adapter is left as it was");
            Assert.That(client, Does.StartWith(cache), "the re-keyed shard goes beside the new keys, never into the bundled model");

            // The editor points the settings at them (what the extension does with the answer).
            await sidecar.NotifyAsync("workspace/didChangeConfiguration", new { settings = new { noircode = new { keysFolder = keys, modelFolder = client } } });
            var now = sidecar.WaitForStatus(s => s.GetProperty("mode").GetString() is "split" or "error" && s.GetProperty("keyLabel").GetString() != "demo", 180);
            Assert.That(now.GetProperty("mode").GetString(), Is.EqualTo("split"), now.ToString());
            Assert.That(now.GetProperty("demo").GetBoolean(), Is.False);
            Assert.That(now.GetProperty("keyLabel").GetString(), Is.EqualTo("private"));
            // New keys are homophonic (k tables); their budget is the one measured for k tables, if the model has one.
            int tables = NoirCode.Privacy.Keys.PrivacyKeys.ReadMetadata(keys).Homophones;
            string forTables = Path.Combine(BundledModel.Folder, MeasuredBudget.FileNameFor(tables));
            var measured = MeasuredBudget.Load(File.Exists(forTables) ? forTables : Path.Combine(BundledModel.Folder, MeasuredBudget.FileName));
            Assert.That(now.GetProperty("exposureLimit").GetInt64(), Is.EqualTo(measured.Tokens), "private keys: the measured budget for fresh keys");
            Assert.That(now.GetProperty("exposureUsed").GetInt64(), Is.EqualTo(2 * 2 * 2 * 128), "the re-tune counts against the new key");
            Assert.That(now.GetProperty("previousKeyTokens").GetInt64(), Is.EqualTo(demoTokens), "the demo keys' record carries over");

            await sidecar.Complete("stats.py", 3, 8);
            var after = sidecar.WaitForStatus(s => s.TryGetProperty("last", out _) || s.GetProperty("mode").GetString() is "error" or "blocked" or "offline");
            Assert.That(after.GetProperty("mode").GetString(), Is.EqualTo("split"), after.ToString());
            Assert.That(after.GetProperty("last").GetProperty("tokens").GetInt64(), Is.GreaterThan(10), "completions go through the endpoint under the new keys");
            long used = after.GetProperty("exposureUsed").GetInt64();
            Assert.That(used, Is.GreaterThan(2 * 2 * 2 * 128));

            // The measured budget is enforced, not only shown: a budget file beside the keys (it comes before the
            // model's) with one token left, and the next completion is refused before anything is sent.
            var tight = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(BundledModel.Folder, MeasuredBudget.FileName)))!;
            tight["tokens"] = used + 1;
            File.WriteAllText(Path.Combine(keys, MeasuredBudget.FileName), tight.ToJsonString());
            await sidecar.NotifyAsync("workspace/didChangeConfiguration", new { settings = new { noircode = new { keysFolder = keys, modelFolder = client, wire = "f32" } } }); // reloads (the whole section, as the editor sends it)
            var reloaded = sidecar.WaitForStatus(s => s.GetProperty("mode").GetString() is "split" or "error" && s.GetProperty("exposureLimit").GetInt64() == used + 1, 180);
            Assert.That(reloaded.GetProperty("exposureBasis").GetString(), Is.EqualTo("measured"));
            await sidecar.Complete("stats.py", 3, 8);
            var blocked = sidecar.WaitForStatus(s => s.GetProperty("mode").GetString() is "blocked" or "error" || s.TryGetProperty("last", out _));
            Assert.That(blocked.GetProperty("mode").GetString(), Is.EqualTo("blocked"), blocked.ToString());
            Assert.That(blocked.GetProperty("exposureUsed").GetInt64(), Is.EqualTo(used), "nothing left past the budget");
            await sidecar.ShutdownCleanlyAsync();
        }
        finally
        {
            sidecar.Dispose();
            Directory.Delete(root, true);
        }
    }
}
