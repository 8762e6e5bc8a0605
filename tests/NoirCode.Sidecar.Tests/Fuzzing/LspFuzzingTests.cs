using System.Text.Json;
using NoirCode.Testing.Fuzzing;
using NoirCode.Testing.Lsp;
using NoirCode.Testing.Models;

namespace NoirCode.Sidecar.Tests.Fuzzing;

/// <summary>
/// Malformed LSP traffic to a real `noir lsp` process (a short run; `scripts/bench fuzz-lsp` sends 10,000), and one
/// regression test per crash the fuzzing found.
/// </summary>
public class LspFuzzingTests
{
    TempModel _temp = null!;
    string _root = "";
    LspProcess _lsp = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        _temp = new TempModel("noir-lsp-fuzz-", seed: 8);
        _root = _temp.Root;
        _lsp = LspProcess.Start(LspProcess.IsolatedEnvironment(_root));
        await _lsp.InitializeUntilReadyAsync(new { modelFolder = _temp.Folder, maxNewTokens = 8 }, Path.Combine(_root, "ws"));
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _lsp.Dispose();
        _temp.Dispose();
    }

    [Test, Order(0)]
    public async Task AResponseToNoRequestIsDroppedAndTheServerStays()
    {
        // Regression: StreamJsonRpc closes the connection on such a response, and the sidecar exited.
        await _lsp.SendAsync(new { jsonrpc = "2.0", id = 5, result = "nobody asked" });
        await _lsp.SendAsync(new { jsonrpc = "2.0", id = 6, error = new { code = -1, message = "nor this" } });
        var reply = await _lsp.RequestAsync("noir/unknown", new { }, TimeSpan.FromSeconds(30));
        Assert.That(reply.GetProperty("error").GetProperty("code").GetInt32(), Is.EqualTo(-32601));
        Assert.That(_lsp.HasExited, Is.False);
    }

    [Test, Order(0)]
    public async Task ASecondInitializeIsRefusedAndASecondInitializedLoadsNothing()
    {
        // Regression: a repeated initialized reloaded the model and restarted the local endpoint; a repeated
        // initialize reset the settings under the running model.
        var again = await _lsp.RequestAsync("initialize", new { capabilities = new { } });
        Assert.That(again.GetProperty("error").GetProperty("code").GetInt32(), Is.EqualTo(-32600), again.ToString());
        await _lsp.NotifyAsync("initialized", new { });
        await Task.Delay(2000);
        Assert.That(_lsp.StderrTail.Count(l => l.Contains("model ready")), Is.EqualTo(1), string.Join("\n", _lsp.StderrTail));
    }

    [Test, Order(1)]
    public async Task MissingOrOutOfRangeParamsGetInvalidParams()
    {
        string uri = new Uri(Path.Combine(_root, "ws", "a.py")).ToString();
        await _lsp.NotifyAsync("textDocument/didOpen", new { textDocument = new { uri, languageId = "python", version = 1, text = "x = 1\n" } });
        // Regression: a null textDocument threw NullReferenceException; int.MaxValue as a character overflowed an offset.
        var noDocument = await _lsp.RequestAsync("textDocument/inlineCompletion", new { position = new { line = 0, character = 1 } });
        Assert.That(noDocument.GetProperty("error").GetProperty("code").GetInt32(), Is.EqualTo(-32602), noDocument.ToString());
        Assert.That(noDocument.GetProperty("error").GetProperty("message").GetString(), Does.Contain("textDocument"));
        var negative = await _lsp.RequestAsync("textDocument/inlineCompletion", new { textDocument = new { uri }, position = new { line = -1, character = 0 } });
        Assert.That(negative.GetProperty("error").GetProperty("code").GetInt32(), Is.EqualTo(-32602));
        var far = await _lsp.RequestAsync("textDocument/inlineCompletion", new { textDocument = new { uri }, position = new { line = 0, character = int.MaxValue }, context = new { triggerKind = 1 } });
        Assert.That(far.TryGetProperty("result", out var result), Is.True, far.ToString());
        Assert.That(result.GetProperty("items").ValueKind, Is.EqualTo(JsonValueKind.Array));
        var noUri = await _lsp.RequestAsync("workspace/executeCommand", new { command = "noir.generateFunction", arguments = new object[] { new { position = new { line = 0, character = 0 } } } });
        Assert.That(noUri.GetProperty("error").GetProperty("code").GetInt32(), Is.EqualTo(-32602), noUri.ToString());
    }

    [Test, Order(2)]
    public async Task MalformedMessagesNeitherCrashNorHangAndTheServerStillAnswersCorrectly()
    {
        var (report, detail) = await LspFuzzer.RunCheckedAsync(_lsp, Path.Combine(_root, "ws"), count: 400, seed: 2);
        Assert.That(report.Passed, Is.True, report.Summary() + "; " + detail + "; " + string.Join("; ", report.Findings.Take(5)));
        Assert.That(report.Sent, Is.EqualTo(400));
    }
}
