using System.Text.Json;
using NoirCode.Testing.Lsp;
using NoirCode.Testing.Models;
using NoirCode.Privacy.Ledger;

namespace NoirCode.Sidecar.Tests.Faults;

/// <summary>
/// kill -9 of the sidecar while it sends: the exposure ledger stays readable, holds at least what was reported,
/// and the next sidecar (as the editor restarts it) charges on top of it exactly what it sends.
/// </summary>
public class SidecarKillTests
{
    [Test]
    public async Task TheLedgerSurvivesAKilledSidecarAndTheNextOneChargesOnTopOfIt()
    {
        using var temp = new TempModel("noir-sidecar-kill-", seed: 6);
        string root = temp.Root, model = temp.Folder, ledger = Path.Combine(root, "ledger"), ws = Path.Combine(root, "ws");
        var env = LspProcess.IsolatedEnvironment(root);
        string uri = new Uri(Path.Combine(ws, "a.py")).ToString();
        string text = string.Concat(Enumerable.Range(0, 60).Select(i => $"def f{i}(x):\n    return x * {i}\n\n")) + "def main():\n    ";
        async Task<long> Complete(LspProcess lsp, int line)
        {
            var r = await lsp.RequestAsync("textDocument/inlineCompletion", new { textDocument = new { uri }, position = new { line, character = 4 }, context = new { triggerKind = 1 } });
            Assert.That(r.TryGetProperty("result", out _), Is.True, r.ToString());
            var status = await lsp.WaitForNotificationAsync("noir/privacyStatus", s => s.TryGetProperty("last", out var l) && l.ValueKind == JsonValueKind.Object, TimeSpan.FromSeconds(30));
            return status.GetProperty("last").GetProperty("tokens").GetInt64();
        }

        long reported;
        using (var first = LspProcess.Start(env))
        {
            await first.InitializeUntilReadyAsync(new { modelFolder = model, maxNewTokens = 8 }, ws);
            await first.NotifyAsync("textDocument/didOpen", new { textDocument = new { uri, languageId = "python", version = 1, text } });
            reported = await Complete(first, 180);
            Assert.That(reported, Is.GreaterThan(0));
            // Kill it while a fresh prompt is on its way out.
            await first.NotifyAsync("textDocument/didChange", new { textDocument = new { uri, version = 2 }, contentChanges = new[] { new { text = "import sys\n" + text } } });
            _ = first.RequestAsync("textDocument/inlineCompletion", new { textDocument = new { uri }, position = new { line = 181, character = 4 }, context = new { triggerKind = 1 } });
            await Task.Delay(30);
            first.KillHard();
        }

        var afterKill = new ExposureLedger(ledger).Sum(_ => true); // readable, a torn last line or not
        Assert.That(afterKill.Tokens, Is.GreaterThanOrEqualTo(reported), "nothing reported as sent is missing");

        using var second = LspProcess.Start(env);
        await second.InitializeUntilReadyAsync(new { modelFolder = model, maxNewTokens = 8 }, ws);
        await second.NotifyAsync("textDocument/didOpen", new { textDocument = new { uri, languageId = "python", version = 1, text } });
        long sent = await Complete(second, 180);
        Assert.That(new ExposureLedger(ledger).Sum(_ => true).Tokens, Is.EqualTo(afterKill.Tokens + sent), "the restarted sidecar charges exactly what it sends");
        await second.ShutdownAsync();
    }
}
