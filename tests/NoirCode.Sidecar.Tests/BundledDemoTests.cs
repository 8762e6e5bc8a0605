using System.Text.Json;
using NoirCode.Testing.Lsp;
using NoirCode.Testing.Models;

namespace NoirCode.Sidecar.Tests;

/// <summary>
/// Out of the box: `noir lsp` with no settings runs the bundled model through a local endpoint under the
/// shipped demo keys (homophonic INDVocab, 16 tables at ε = 13, + LTokenizer; derived from their public seed on first
/// run) with the client shard tuned for them, says "demo" in its
/// status, and completes code: the STuning'd decoder reads the secret indices back into tokens.
/// </summary>
public class BundledDemoTests
{
    [Test]
    public async Task LocalModeCompletesCode() => await CompleteALoop(new { mode = "local" }, demo: false);

    [Test]
    public async Task TheDefaultRunsTheDemoKeysAndCompletesCode() => await CompleteALoop(new { }, demo: true);

    static async Task CompleteALoop(object settings, bool demo)
    {
        string root = Directory.CreateTempSubdirectory("noir-demo-tests-").FullName;
        var sidecar = LspProcess.Start(LspProcess.IsolatedEnvironment(root));
        try
        {
            await sidecar.InitializeAsync(settings, root);
            var ready = sidecar.WaitForStatus(s => s.GetProperty("mode").GetString() is "split" or "local" or "error", 180);
            if (!demo) Assert.That(ready.GetProperty("mode").GetString(), Is.EqualTo("local"), ready.ToString());
            else
            {
                Assert.That(ready.GetProperty("mode").GetString(), Is.EqualTo("split"), ready.ToString());
                Assert.That(ready.GetProperty("demo").GetBoolean(), Is.True);
                Assert.That(ready.GetProperty("keyLabel").GetString(), Is.EqualTo("demo"));
                var shipped = Privacy.Keys.PrivacyKeys.ReadMetadata(Path.Combine(BundledModel.Folder, "demo", "keys"));
                Assert.That(shipped.Homophones, Is.EqualTo(16), "the demo runs the shipped defence: homophonic INDVocab");
                Assert.That(ready.GetProperty("epsilon").GetDouble(), Is.EqualTo(16 * 13), "sixteen tables at ε = 13 each, composed");
                Assert.That(ready.GetProperty("detail").GetString(), Does.Contain("local demo endpoint").And.Contain("keys"));
                var keyFiles = Directory.GetFiles(Path.Combine(root, "cache"), "keys.safetensors", SearchOption.AllDirectories);
                Assert.That(keyFiles, Has.Length.EqualTo(1));
                Assert.That(File.GetUnixFileMode(keyFiles[0]), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite), "installed owner-only");
                // Without a budget setting, the demo bundle's measured budget: the report's volume at 3 % content read.
                var measured = Privacy.Ledger.MeasuredBudget.Load(Path.Combine(BundledModel.Folder, "demo", Privacy.Ledger.MeasuredBudget.FileNameFor(shipped.Homophones)));
                Assert.That(ready.GetProperty("exposureLimit").GetInt64(), Is.EqualTo(measured.Tokens));
                Assert.That(ready.GetProperty("exposureBasis").GetString(), Is.EqualTo("measured"));
                Assert.That(ready.GetProperty("exposurePeriod").GetString(), Is.EqualTo("key"), "the curve counts a key's whole life");
                Assert.That(ready.GetProperty("exposureCurve").GetArrayLength(), Is.EqualTo(measured.Curve.Count));
                Assert.That(ready.GetProperty("exposureMeaning").GetString(), Does.Contain($"{measured.Tokens:N0} tokens"));
            }

            await sidecar.Open("demo.py", "def total(values):\n    result = 0\n    for value in values:\n        result += value\n    return\n\n\nprint(total([1, 2, 3]))\n");
            var items = (await sidecar.Complete("demo.py", 4, 10)).GetProperty("items");
            var status = sidecar.WaitForStatus(s => s.TryGetProperty("last", out _) || s.GetProperty("mode").GetString() is "error" or "offline");
            Assert.That(items.GetArrayLength(), Is.EqualTo(1), status.ToString());
            string text = items[0].GetProperty("insertText").GetString()!;
            // An 8 M model's single suggestion is not graded here (the model card's ε table is); it must exist and be text.
            Assert.That(text.Trim(), Is.Not.Empty.And.Not.Contains("<|"), $"suggestion: {JsonSerializer.Serialize(text)}");
            Assert.That(status.GetProperty("last").GetProperty("source").GetString(), Is.EqualTo("model"));
            if (demo) Assert.That(status.GetProperty("last").GetProperty("tokens").GetInt64(), Is.GreaterThan(10), "the prompt went through the endpoint");
            if (demo) Assert.That(status.GetProperty("exposureUsed").GetInt64(), Is.GreaterThan(10), "charged against the measured budget");
            if (demo) await ALongFilesPromptStaysInTheWindowTheDemoClientWasTunedOn(sidecar);
            if (demo) await ASpentDemoBudgetFallsBackHereUnlessBlocked(sidecar);
            await sidecar.ShutdownCleanlyAsync();
        }
        finally
        {
            sidecar.Dispose();
            Directory.Delete(root, true);
        }
    }

    /// <summary>The demo client was tuned on 256-token windows (its noir_tuning.json says so): a long file's prompt is cut to
    /// them, so a request costs the budget about a window, not the engine's 768 tokens, which maxPromptTokens restores.</summary>
    static async Task ALongFilesPromptStaysInTheWindowTheDemoClientWasTunedOn(LspProcess sidecar)
    {
        Assert.That(Privacy.Keys.TunedShardBinding.WindowTokens(Path.Combine(BundledModel.Folder, "demo", "client")), Is.EqualTo(256));
        string text = "def scale(values):\n" + string.Concat(Enumerable.Range(0, 300).Select(i => $"    total_{i} = values[{i}] * {i + 7}\n")) + "    return ";
        await sidecar.Open("long.py", text);
        int line = text.Count(c => c == '\n');
        async Task<long> SentByARequest()
        {
            long before = (await sidecar.Stats()).GetProperty("tokensSent").GetInt64();
            await sidecar.Complete("long.py", line, 11, triggerKind: 1); // invoked: no cache
            return (await sidecar.Stats()).GetProperty("tokensSent").GetInt64() - before;
        }
        long windowed = await SentByARequest();
        await sidecar.NotifyAsync("workspace/didChangeConfiguration", new { settings = new { noircode = new { maxPromptTokens = 768 } } });
        long whole = await SentByARequest();
        // A window's prompt and a suggestion's decoded positions (64 at most, and drafts a speculation rejected).
        Assert.That(windowed, Is.InRange(200, 256 + 64 + 64), "inside the tuned window");
        Assert.That(whole, Is.GreaterThan(700), "the engine's prompt, when the setting asks for it");
        await sidecar.NotifyAsync("workspace/didChangeConfiguration", new { settings = new { noircode = new { } } });
    }

    /// <summary>atLimit "auto" (the default): stopping public demo keys protects nothing, so at their budget the bundled
    /// model completes on this machine; "block" set by the user stops.</summary>
    static async Task ASpentDemoBudgetFallsBackHereUnlessBlocked(LspProcess sidecar)
    {
        object Section(object noircode) => new { settings = new { noircode } };
        await sidecar.NotifyAsync("workspace/didChangeConfiguration", Section(new { exposureBudgetTokens = 1 }));
        var items = (await sidecar.Complete("demo.py", 4, 10, triggerKind: 1)).GetProperty("items"); // invoked: no cache
        var local = sidecar.WaitForStatus(s => s.GetProperty("mode").GetString() == "local");
        Assert.That(items.GetArrayLength(), Is.EqualTo(1), local.ToString());
        Assert.That(local.GetProperty("detail").GetString(), Does.Contain("budget spent"));
        Assert.That(local.GetProperty("last").GetProperty("tokens").GetInt64(), Is.Zero, "nothing is sent past the budget");

        await sidecar.NotifyAsync("workspace/didChangeConfiguration", Section(new { exposureBudgetTokens = 1, atLimit = "block" }));
        items = (await sidecar.Complete("demo.py", 4, 10, triggerKind: 1)).GetProperty("items");
        var blocked = sidecar.WaitForStatus(s => s.GetProperty("mode").GetString() == "blocked");
        Assert.That(items.GetArrayLength(), Is.Zero, blocked.ToString());
    }
}
