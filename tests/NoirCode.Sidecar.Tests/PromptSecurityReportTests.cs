using System.Text.Json;
using NoirCode.Remote;
using NoirCode.Testing.Lsp;
using NoirCode.Testing.Models;

namespace NoirCode.Sidecar.Tests;

/// <summary>
/// The privacy panel's per-prompt security report (noir.promptSecurityReport) over LSP on the bundled model: the same
/// attacks recover the prompt from an unprotected split and fail against it under the demo keys.
/// </summary>
public class PromptSecurityReportTests
{
    const string Code = "import os\n\n\ndef connect(host, port):\n    password = 'hunter2-prod'\n    url = 'https://' + host + ':' + str(port)\n    return open_connection(url, password)\n\n\ndef main():\n    ";
    static string Bundled => BundledModel.Folder;

    [Test]
    public async Task UnderTheDemoKeysTheInversionRecoversAlmostNothing()
    {
        var report = await Report(new { });
        Assert.That(report.GetProperty("setting").GetString(), Does.Contain("ε = 208 (16 tables at ε = 13)").And.Contain("demo keys"));
        var inversion = Attack(report, "inversion");
        Assert.That(inversion.GetProperty("crt").GetDouble(), Is.LessThan(0.2), report.ToString());
        Assert.That(inversion.GetProperty("cloudWins").GetBoolean(), Is.False);
        // The keys are public: a cloud that uses them undoes them, whatever the attacks without them recover.
        Assert.That(report.GetProperty("setting").GetString(), Does.Contain("the keys are public: the cloud wins"));
        Assert.That(report.GetProperty("cloudWins").GetBoolean(), Is.True);
        Assert.That(report.GetProperty("demoKeys").GetBoolean(), Is.True);
        Assert.That(report.GetProperty("attacks").GetArrayLength(), Is.EqualTo(2), "inversion and code reconstruction");
    }

    [Test]
    public async Task WithoutKeysTheSameInversionRecoversThePrompt()
    {
        using var endpoint = EndpointServerProcess.Start(Path.Combine(AppContext.BaseDirectory, "noir.dll"),
            new[] { "--shard", Bundled, "--split", "1,4", "--port", "0" });
        var report = await Report(new { modelFolder = Bundled, endpoint = endpoint.Address.ToString() });
        Assert.That(report.GetProperty("setting").GetString(), Does.Contain("no privacy keys"));
        var inversion = Attack(report, "inversion");
        Assert.That(inversion.GetProperty("crt").GetDouble(), Is.GreaterThan(0.6), report.ToString()); // 0.86 here (the completion's 50-token prompt)
        Assert.That(report.GetProperty("cloudWins").GetBoolean(), Is.True);
        Assert.That(inversion.GetProperty("reconstruction").GetString(), Does.Contain("connect"));
        Assert.That(inversion.GetProperty("sensitiveRecovered").GetInt32(), Is.GreaterThan(0), "identifiers of the prompt (connect, password, url, …) are recovered");
    }

    [Test]
    public async Task ASensitiveFileHasNothingToAttack()
    {
        var e = Assert.ThrowsAsync<LspErrorException>(async () => await Report(new { }, ".env"))!;
        Assert.That(e.Message, Does.Contain("sensitive"));
    }

    static JsonElement Attack(JsonElement report, string name) =>
        report.GetProperty("attacks").EnumerateArray().First(a => a.GetProperty("attack").GetString()!.Contains(name, StringComparison.OrdinalIgnoreCase));

    static async Task<JsonElement> Report(object settings, string file = "net.py")
    {
        string root = Directory.CreateTempSubdirectory("noir-security-report-").FullName;
        var sidecar = LspProcess.Start(LspProcess.IsolatedEnvironment(root));
        try
        {
            await sidecar.InitializeAsync(settings, root);
            var ready = sidecar.WaitForStatus(s => s.GetProperty("mode").GetString() is "split" or "local" or "error", 180);
            Assert.That(ready.GetProperty("mode").GetString(), Is.EqualTo("split"), ready.ToString());
            await sidecar.Open(file, Code);
            var lines = Code.Split('\n');
            var report = await sidecar.InvokeAsync("workspace/executeCommand", new
            {
                command = "noir.promptSecurityReport",
                arguments = new object[] { new { uri = sidecar.Uri(file), position = new { line = lines.Length - 1, character = lines[^1].Length } } },
            });
            Assert.That(report.GetProperty("tokens").GetInt32(), Is.GreaterThan(30));
            TestContext.Out.WriteLine(report.ToString()); // a synthetic prompt: the scores are worth seeing in the log
            await sidecar.ShutdownCleanlyAsync();
            return report;
        }
        finally
        {
            sidecar.Dispose();
            Directory.Delete(root, true);
        }
    }
}
