using System.Text.Json;
using NoirCode.Testing.Lsp;
using NoirCode.Testing.Models;

namespace NoirCode.Sidecar.Tests;

/// <summary>
/// Language gating in the real sidecar process: a model that declares Python gets no requests for JavaScript, the
/// status says why, the counts say why, and enabling the language by name lets it through.
/// </summary>
public class LanguageGatingProcessTests
{
    TempModel _temp = null!;
    string _root = "";
    LspProcess _sidecar = null!;

    string _model = "";

    [OneTimeSetUp]
    public async Task Start()
    {
        _temp = new TempModel("noir-lsp-languages-", seed: 5);
        _root = _temp.Root;
        string model = _model = _temp.Folder;
        string config = Path.Combine(model, "config.json");
        File.WriteAllText(config, File.ReadAllText(config).TrimEnd().TrimEnd('}') + ", \"languages\": [\"python\"]}");
        _sidecar = LspProcess.Start(LspProcess.IsolatedEnvironment(_root));
        await _sidecar.InitializeAsync(new { modelFolder = model, mode = "local", maxNewTokens = 4 }, _root);
        var ready = _sidecar.WaitForStatus(s => s.GetProperty("mode").GetString() is "local" or "error");
        Assert.That(ready.GetProperty("mode").GetString(), Is.EqualTo("local"), ready.ToString());
        Assert.That(ready.GetProperty("modelLanguages")[0].GetString(), Is.EqualTo("python"));
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        try { await _sidecar.ShutdownCleanlyAsync(); }
        finally { _sidecar.Dispose(); _temp.Dispose(); }
    }

    Task<JsonElement> Stats() => _sidecar.InvokeAsync("noir/completionStats", null);

    static long Count(JsonElement stats, string reason) => stats.GetProperty("empty").TryGetProperty(reason, out var n) ? n.GetInt64() : 0;

    [Test, Order(1)]
    public async Task JavaScriptGetsNothingAndTheStatusSaysWhy()
    {
        await _sidecar.Open("app.js", "function area(r) {\n  return ", "javascript");
        long before = Count(await Stats(), "language not supported by the model");
        var result = await _sidecar.Complete("app.js", 1, 9);
        Assert.That(result.GetProperty("items").GetArrayLength(), Is.Zero);
        var status = _sidecar.WaitForStatus(s => s.TryGetProperty("unsupportedLanguage", out _));
        Assert.That(status.GetProperty("unsupportedLanguage").GetString(), Is.EqualTo("javascript"));
        Assert.That(status.GetProperty("detail").GetString(), Does.Contain("python only"));
        Assert.That(Count(await Stats(), "language not supported by the model"), Is.EqualTo(before + 1));
    }

    [Test, Order(2)]
    public async Task PythonGoesToTheModel()
    {
        await _sidecar.Open("area.py", "def area(r):\n    return ");
        await _sidecar.Complete("area.py", 1, 11);
        var status = _sidecar.WaitForStatus(s => s.TryGetProperty("last", out _));
        Assert.That(status.GetProperty("last").GetProperty("source").GetString(), Is.EqualTo("model"));
        Assert.That(status.TryGetProperty("unsupportedLanguage", out _), Is.False);
    }

    [Test, Order(3)]
    public async Task EnablingJavaScriptByNameLetsItThrough()
    {
        await _sidecar.NotifyAsync("workspace/didChangeConfiguration", new { settings = new { noircode = new { modelFolder = _model, mode = "local", maxNewTokens = 4, enable = new Dictionary<string, bool> { ["*"] = true, ["javascript"] = true } } } });
        long before = Count(await Stats(), "language not supported by the model");
        await _sidecar.Complete("app.js", 1, 9);
        var status = _sidecar.WaitForStatus(s => s.TryGetProperty("last", out _) && !s.TryGetProperty("unsupportedLanguage", out _));
        Assert.That(status.GetProperty("last").GetProperty("source").GetString(), Is.EqualTo("model"));
        Assert.That(Count(await Stats(), "language not supported by the model"), Is.EqualTo(before));
    }
}
