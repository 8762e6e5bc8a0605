using System.Text.Json;
using NoirCode.Privacy.Ledger;
using NoirCode.Testing.Lsp;
using NoirCode.Testing.Models;

namespace NoirCode.Sidecar.Tests;

/// <summary>
/// The real sidecar process (`noir lsp`) driven over stdio by a JSON-RPC client in this test process, with the
/// embedded default: a local endpoint process on loopback serving the middle blocks.
/// </summary>
public class LanguageServerProcessTests
{
    TempModel _temp = null!;
    string _root = "", _ledger = "", _model = "";
    LspProcess _sidecar = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        _temp = new TempModel("noir-lsp-tests-", seed: 5);
        _root = _temp.Root;
        string model = _model = _temp.Folder;
        _ledger = Path.Combine(_root, "ledger");
        _sidecar = LspProcess.Start(LspProcess.IsolatedEnvironment(_root));
        var caps = await _sidecar.InitializeAsync(new { modelFolder = model, localModelFolder = model }, _root);
        Assert.That(caps.TryGetProperty("inlineCompletionProvider", out _), Is.True);
        Assert.That(caps.GetProperty("executeCommandProvider").GetProperty("commands")[0].GetString(), Is.EqualTo("noir.generateFunction"));
        var ready = WaitForStatus(s => s.GetProperty("mode").GetString() is "split" or "error");
        Assert.That(ready.GetProperty("mode").GetString(), Is.EqualTo("split"), ready.ToString());
        Assert.That(ready.GetProperty("detail").GetString(), Does.Contain("local demo endpoint"));
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        try { await _sidecar.ShutdownCleanlyAsync(); }
        finally
        {
            _sidecar.Dispose();
            _temp.Dispose();
        }
    }

    JsonElement WaitForStatus(Func<JsonElement, bool> match, int seconds = 90) => _sidecar.WaitForStatus(match, seconds);
    Task Open(string name, string text, string language = "python") => _sidecar.Open(name, text, language);
    string Uri(string name) => _sidecar.Uri(name);
    Task<JsonElement> Complete(string name, int line, int character) => _sidecar.Complete(name, line, character);

    long LedgerTokens() => new ExposureLedger(_ledger).Sum(_ => true).Tokens;

    const string Code = "import os\n\n\ndef read_config(path):\n    with open(path) as handle:\n        return handle.read()\n\n\ndef main():\n    ";

    [Test, Order(0)]
    public void LoadingTheModelShowsProgress()
    {
        var kinds = _sidecar.Progress.Select(p => p.GetProperty("value").GetProperty("kind").GetString()).ToList();
        Assert.That(kinds.FirstOrDefault(), Is.EqualTo("begin"));
        Assert.That(kinds, Does.Contain("report"));
        Assert.That(kinds.LastOrDefault(), Is.EqualTo("end"));
    }

    [Test, Order(1)]
    public async Task InlineCompletionGoesThroughTheLocalEndpointAndIsCharged()
    {
        await Open("main.py", Code);
        var result = await Complete("main.py", 9, 4);
        Assert.That(result.GetProperty("items").ValueKind, Is.EqualTo(JsonValueKind.Array));
        var status = WaitForStatus(s => s.TryGetProperty("last", out _));
        var last = status.GetProperty("last");
        Assert.That(last.GetProperty("source").GetString(), Is.EqualTo("model"));
        Assert.That(last.GetProperty("tokens").GetInt64(), Is.GreaterThan(20), "the prompt went to the endpoint");
        Assert.That(last.GetProperty("bytes").GetInt64(), Is.EqualTo(last.GetProperty("tokens").GetInt64() * 64 * 2), "fp16 hidden states, nothing else");
        Assert.That(LedgerTokens(), Is.GreaterThanOrEqualTo(last.GetProperty("tokens").GetInt64()));
        Assert.That(status.GetProperty("exposureUsed").GetInt64(), Is.GreaterThanOrEqualTo(last.GetProperty("tokens").GetInt64()), "the status shows the exposure so far");

        long charged = LedgerTokens();
        await Complete("main.py", 9, 4);
        var again = WaitForStatus(s => s.TryGetProperty("last", out _));
        Assert.That(again.GetProperty("last").GetProperty("source").GetString(), Is.EqualTo("cache"));
        Assert.That(again.GetProperty("last").GetProperty("tokens").GetInt64(), Is.Zero);
        Assert.That(LedgerTokens(), Is.EqualTo(charged), "a cached completion costs no exposure");
    }

    [Test, Order(2)]
    public async Task SensitiveFilesSendNothing()
    {
        long before = LedgerTokens();
        await Open(".env", "API_TOKEN=s3cr3t\nDB_PASSWORD=", "dotenv");
        await Complete(".env", 1, 12);
        // localModelFolder names a whole model, so the sidecar completes the file with it here; nothing leaves.
        var status = WaitForStatus(s => s.GetProperty("detail").GetString()!.Contains("sensitive"));
        Assert.That(status.GetProperty("mode").GetString(), Is.EqualTo("split"));
        Assert.That(status.GetProperty("detail").GetString(), Does.Contain("this machine only"));
        Assert.That(status.GetProperty("last").GetProperty("tokens").GetInt64(), Is.Zero, "no token went to the endpoint");
        Assert.That(LedgerTokens(), Is.EqualTo(before), "nothing reached the endpoint");
    }

    [Test, Order(2)]
    public async Task ANoirignoreWrittenAfterStartAFileOutsideTheWorkspaceAndAPastedKeySendNothing()
    {
        long before = LedgerTokens();
        File.WriteAllText(Path.Combine(_root, ".noirignore"), "private/\n");
        Directory.CreateDirectory(Path.Combine(_root, "src", "private"));
        await Open("src/private/plan.py", Code);
        await Complete("src/private/plan.py", 9, 4);
        var ignored = WaitForStatus(s => s.GetProperty("detail").GetString()!.Contains("sensitive"));
        Assert.That(ignored.GetProperty("detail").GetString(), Does.Contain(".noirignore"));

        string outside = Path.Combine(Path.GetTempPath(), $"noir-outside-{Guid.NewGuid():N}.py");
        File.WriteAllText(outside, Code);
        try
        {
            string uri = new Uri(outside).ToString();
            await _sidecar.NotifyAsync("textDocument/didOpen", new { textDocument = new { uri, languageId = "python", version = 1, text = Code } });
            await _sidecar.InvokeAsync("textDocument/inlineCompletion",
                new { textDocument = new { uri }, position = new { line = 9, character = 4 }, context = new { triggerKind = 2 } });
            var status = WaitForStatus(s => s.GetProperty("detail").GetString()!.Contains("outside the workspace"));
            Assert.That(status.GetProperty("last").GetProperty("tokens").GetInt64(), Is.Zero);
        }
        finally { File.Delete(outside); File.Delete(Path.Combine(_root, ".noirignore")); }

        await Open("pasted.py", "KEY = \"\"\"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE\n\"\"\"\n" + Code);
        await Complete("pasted.py", 12, 4);
        WaitForStatus(s => s.GetProperty("detail").GetString()!.Contains("private key"));
        Assert.That(LedgerTokens(), Is.EqualTo(before), "nothing reached the endpoint");
    }

    [Test, Order(2)]
    public void TheSidecarWritesNoCoreDump()
    {
        // Its memory holds your code and keys: a crash must not leave it in a core file.
        string limits = File.ReadAllText($"/proc/{_sidecar.Pid}/limits");
        Assert.That(limits, Does.Match(@"Max core file size\s+0\s+0\s"), limits);
    }

    [Test, Order(3)]
    public async Task GenerateFunctionReturnsABodyAndWhereItGoes()
    {
        await Open("gen.py", "def add(a, b):\n    \"\"\"Return the sum of a and b.\"\"\"\n\n\nprint(add(1, 2))\n");
        var result = await _sidecar.InvokeAsync("workspace/executeCommand", new
        {
            command = "noir.generateFunction",
            arguments = new object[] { new { uri = Uri("gen.py"), position = new { line = 0, character = 5 } } },
        });
        Assert.That(result.GetProperty("text").GetString(), Does.EndWith("\n"));
        Assert.That(result.GetProperty("range").GetProperty("start").GetProperty("line").GetInt32(), Is.EqualTo(2), "the body goes after the docstring");
        var noDef = Assert.CatchAsync<LspErrorException>(async () => await _sidecar.InvokeAsync("workspace/executeCommand",
            new { command = "noir.generateFunction", arguments = new object[] { new { uri = Uri("main.py"), position = new { line = 0, character = 0 } } } }))!;
        Assert.That(noDef.Message, Does.Contain("no Python function signature"));
    }

    [Test, Order(6)]
    public async Task ThePrivacyPanelCommandsAnswerOverLsp()
    {
        var ledger = await _sidecar.InvokeAsync("workspace/executeCommand",
            new { command = "noir.exposureLedger", arguments = new object[] { new { days = 7 } } });
        var rows = ledger.GetProperty("rows").EnumerateArray().ToList();
        Assert.That(rows, Is.Not.Empty, "the completions of the earlier tests were charged");
        Assert.That(rows.Sum(r => r.GetProperty("tokens").GetInt64()), Is.EqualTo(LedgerTokens()));
        Assert.That(rows[0].GetProperty("key").GetString(), Is.EqualTo("none"));

        var noKeys = Assert.CatchAsync<LspErrorException>(async () => await _sidecar.InvokeAsync("workspace/executeCommand",
            new { command = "noir.rotateKeys", arguments = Array.Empty<object>() }))!;
        Assert.That(noKeys.Message, Does.Contain("no privacy keys are configured"));
    }

    [Test, Order(5)]
    public async Task TheLocalEndpointGoesWhenTheSidecarIsKilled()
    {
        using var sidecar = LspProcess.Start(new Dictionary<string, string> { ["XDG_CACHE_HOME"] = Path.Combine(_root, "cache") });
        await sidecar.InitializeAsync(new { modelFolder = Path.Combine(_root, "model") });
        int? endpointPid = null;
        for (int i = 0; i < 200 && endpointPid == null; i++)
        {
            await Task.Delay(100);
            endpointPid = Directory.GetDirectories("/proc").Select(d => int.TryParse(Path.GetFileName(d), out int pid) ? pid : -1).Where(pid => pid > 0)
                .FirstOrDefault(pid => { try { return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Contains($"--exit-with-parent {sidecar.Pid}"); } catch (IOException) { return false; } catch (UnauthorizedAccessException) { return false; } }) is int found and > 0 ? found : null;
        }
        Assert.That(endpointPid, Is.Not.Null, "the sidecar started a local endpoint process");
        sidecar.KillHard(); // SIGKILL: no chance to clean up
        bool gone = false;
        for (int i = 0; i < 100 && !gone; i++) { await Task.Delay(100); gone = !Directory.Exists($"/proc/{endpointPid}"); }
        Assert.That(gone, Is.True, "the orphaned endpoint stopped by itself");
    }

    [Test, Order(4)]
    public async Task MalformedMessagesGetAnErrorAndTheServerCarriesOn()
    {
        // A second sidecar, spoken to frame by frame, so the junk cannot upset a client library.
        using var raw = LspProcess.Start();
        Task Send(string text) => raw.SendFrameAsync(LspClient.Utf8(text));
        var junk = new[] { "{not json", "[1,2,3]", "{\"jsonrpc\":\"1.0\",\"id\":5,\"method\":\"x\"}", "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"textDocument/inlineCompletion\",\"params\":42}", "" };
        foreach (var j in junk) await Send(j);
        await Send(new string('x', NoirCode.Sidecar.Lsp.LspFraming.MaxMessageBytes + 1)); // oversized: skipped, answered
        var answered = raw.Expect(100);
        await Send("{\"jsonrpc\":\"2.0\",\"id\":100,\"method\":\"initialize\",\"params\":{\"capabilities\":{}}}");
        Assert.That(await Task.WhenAny(answered, Task.Delay(30_000)), Is.SameAs(answered), "the server answered after the junk");
        var answer = await answered;
        // Answers to ids that are not the driver's own (or to none) are kept apart, in the order they came.
        var errors = raw.Unmatched.Where(m => m.TryGetProperty("error", out _)).ToList();
        Assert.That(answer.GetProperty("result").GetProperty("serverInfo").GetProperty("name").GetString(), Is.EqualTo("noircode-sidecar"));
        Assert.That(errors, Has.Count.EqualTo(junk.Length + 1), "one error response per malformed message");
        Assert.That(errors.Count(e => e.GetProperty("error").GetProperty("code").GetInt32() == -32700), Is.GreaterThanOrEqualTo(2));
        Assert.That(errors.Select(e => e.GetProperty("id").ValueKind == JsonValueKind.Number ? e.GetProperty("id").GetInt32() : -1), Does.Contain(5).And.Contain(7), "errors carry the request's id when it has one");
    }

    [Test, Order(7)]
    public async Task ABudgetSetWhileRunningBlocksAndLiftingItResumes()
    {
        long before = LedgerTokens();
        Assert.That(before, Is.GreaterThan(1), "earlier requests were charged");
        await _sidecar.NotifyAsync("workspace/didChangeConfiguration", Section(new { exposureBudgetTokens = 1 }));
        await Open("budget.py", "def scale(values, factor):\n    return [");
        var items = (await Complete("budget.py", 1, 12)).GetProperty("items");
        Assert.That(items.GetArrayLength(), Is.Zero);
        var blocked = WaitForStatus(s => s.GetProperty("mode").GetString() == "blocked");
        Assert.That(blocked.GetProperty("exposureLimit").GetInt64(), Is.EqualTo(1));
        Assert.That(blocked.GetProperty("exposureBasis").GetString(), Is.EqualTo("setting"), "an explicit budget overrides the measured one");
        Assert.That(LedgerTokens(), Is.EqualTo(before), "nothing left past the budget");

        // Clearing the setting (the editor sends its section without it) lifts the budget, with no restart.
        await _sidecar.NotifyAsync("workspace/didChangeConfiguration", Section(new { }));
        await Complete("budget.py", 1, 12);
        WaitForStatus(s => s.GetProperty("mode").GetString() == "split" && s.TryGetProperty("last", out _));
        Assert.That(LedgerTokens(), Is.GreaterThan(before));
    }

    [Test, Order(8)]
    public async Task ASpentBudgetWithLocalOnlyCompletesHere()
    {
        long before = LedgerTokens();
        await _sidecar.NotifyAsync("workspace/didChangeConfiguration", Section(new { exposureBudgetTokens = 1, atLimit = "local-only" }));
        await Open("local.py", "def double(n):\n    return n *");
        await Complete("local.py", 1, 14);
        var local = WaitForStatus(s => s.GetProperty("mode").GetString() == "local");
        Assert.That(local.GetProperty("detail").GetString(), Does.Contain("budget spent"));
        Assert.That(local.GetProperty("last").GetProperty("tokens").GetInt64(), Is.Zero);
        Assert.That(LedgerTokens(), Is.EqualTo(before), "nothing left past the budget");
        await _sidecar.NotifyAsync("workspace/didChangeConfiguration", Section(new { }));
    }

    /// <summary>workspace/didChangeConfiguration's params as the editor sends them: its whole section (the folders
    /// this fixture started with, and <paramref name="more"/>), which replaces the server's settings.</summary>
    object Section(object more)
    {
        var section = System.Text.Json.Nodes.JsonNode.Parse(JsonSerializer.Serialize(more))!.AsObject();
        section["modelFolder"] = _model;
        section["localModelFolder"] = _model;
        return new { settings = new { noircode = section } };
    }

    /// <summary>The endpoint process the embedded default started for this sidecar, if one runs.</summary>
    static int? EmbeddedEndpointOf(int sidecarPid) =>
        Directory.GetDirectories("/proc").Select(d => int.TryParse(Path.GetFileName(d), out int pid) ? pid : -1).Where(pid => pid > 0)
            .FirstOrDefault(pid => { try { return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Contains($"--exit-with-parent {sidecarPid} "); } catch (IOException) { return false; } catch (UnauthorizedAccessException) { return false; } })
            is int found and > 0 ? found : null;

    [Test, Order(9)]
    public async Task SwitchingToLocalModeStopsTheLocalEndpoint()
    {
        var endpoint = EmbeddedEndpointOf(_sidecar.Pid);
        Assert.That(endpoint, Is.Not.Null, "the embedded default runs a local endpoint");
        Assert.That(File.ReadAllText($"/proc/{endpoint}/cmdline").Split('\0'), Does.Contain("--unix-socket").And.Not.Contain("--port"),
            "the embedded default's endpoint listens on a unix socket, not a TCP port");
        await _sidecar.NotifyAsync("workspace/didChangeConfiguration", Section(new { mode = "local" }));
        WaitForStatus(s => s.GetProperty("mode").GetString() == "local" && s.GetProperty("detail").GetString() == "local");
        bool gone = false;
        for (int i = 0; i < 100 && !gone; i++) { await Task.Delay(100); gone = !Directory.Exists($"/proc/{endpoint}") || File.ReadAllText($"/proc/{endpoint}/stat").Contains(") Z "); }
        Assert.That(gone, Is.True, "the endpoint went with the runtime it served");
        await Open("after.py", Code);
        Assert.That((await Complete("after.py", 9, 4)).GetProperty("items").ValueKind, Is.EqualTo(JsonValueKind.Array));
    }
}
