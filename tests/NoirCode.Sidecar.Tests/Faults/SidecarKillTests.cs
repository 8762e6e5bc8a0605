using System.Text.Json;
using NoirCode.Bench.Infrastructure;
using NoirCode.Core.Model;
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
        string root = Directory.CreateTempSubdirectory("noir-sidecar-kill-").FullName;
        try
        {
            string model = Path.Combine(root, "model"), ledger = Path.Combine(root, "ledger"), ws = Path.Combine(root, "ws");
            RandomModelFactory.Create(model, "tiny", seed: 6);
            var env = new Dictionary<string, string> { ["XDG_CACHE_HOME"] = Path.Combine(root, "cache"), ["NOIR_LEDGER_DIR"] = ledger };
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
                await first.InitializeAsync(new { modelFolder = model, maxNewTokens = 8 }, ws);
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
            await second.InitializeAsync(new { modelFolder = model, maxNewTokens = 8 }, ws);
            await second.NotifyAsync("textDocument/didOpen", new { textDocument = new { uri, languageId = "python", version = 1, text } });
            long sent = await Complete(second, 180);
            Assert.That(new ExposureLedger(ledger).Sum(_ => true).Tokens, Is.EqualTo(afterKill.Tokens + sent), "the restarted sidecar charges exactly what it sends");
            await second.ShutdownAsync();
        }
        finally { Directory.Delete(root, true); }
    }
}
