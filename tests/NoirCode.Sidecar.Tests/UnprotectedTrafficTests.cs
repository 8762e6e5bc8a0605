using System.Text.Json;
using NoirCode.Testing.Lsp;
using NoirCode.Testing.Models;

namespace NoirCode.Sidecar.Tests;

/// <summary>
/// Traffic that is not protected must not run as if it were: the real `noir lsp` process refuses, before the model
/// loads and before anything is sent, no keys (ε = ∞) or the public demo keys with an endpoint on another machine,
/// and cleartext to another machine, unless the user allowed it explicitly (demo keys: never). 203.0.113.5 is a
/// documentation address (TEST-NET-3): nothing answers there, and nothing needs to.
/// </summary>
public class UnprotectedTrafficTests
{
    const string Remote = "https://203.0.113.5:7450", RemoteCleartext = "http://203.0.113.5:7450";
    TempModel _temp = null!;
    string _root = "", _model = "";

    [OneTimeSetUp]
    public void MakeModel()
    {
        _temp = new TempModel("noir-unprotected-", seed: 5);
        (_root, _model) = (_temp.Root, _temp.Folder);
    }

    [OneTimeTearDown]
    public void Clean() => _temp.Dispose();

    [Test]
    public async Task NoKeysWithARemoteEndpointIsRefused()
    {
        var status = await FirstStatus(new { modelFolder = _model, endpoint = Remote });
        Assert.That(status.GetProperty("mode").GetString(), Is.EqualTo("error"), status.ToString());
        Assert.That(status.GetProperty("detail").GetString(), Does.Contain("no privacy keys (ε = ∞)").And.Contain("allowUnprotectedEndpoint"));
    }

    [Test]
    public async Task NoKeysWithARemoteEndpointRunsWhenAllowedExplicitly()
    {
        var status = await FirstStatus(new { modelFolder = _model, endpoint = Remote, allowUnprotectedEndpoint = true });
        Assert.That(status.GetProperty("mode").GetString(), Is.EqualTo("split"), status.ToString());
        Assert.That(status.GetProperty("keyLabel").GetString(), Is.EqualTo("none"), "the editor shows ε∞ unprotected from this");
    }

    [Test]
    public async Task TheDemoKeysAreRefusedOffLoopbackEvenWhenUnprotectedIsAllowed()
    {
        string bundled = BundledModel.Folder;
        var status = await FirstStatus(new
        {
            modelFolder = Path.Combine(bundled, "demo", "client"), keysFolder = Path.Combine(bundled, "demo", "keys"),
            endpoint = Remote, allowUnprotectedEndpoint = true,
        });
        Assert.That(status.GetProperty("mode").GetString(), Is.EqualTo("error"), status.ToString());
        Assert.That(status.GetProperty("detail").GetString(), Does.Contain("demo keys are public"));
    }

    [Test]
    public async Task CleartextToARemoteEndpointIsRefused()
    {
        var status = await FirstStatus(new { modelFolder = _model, endpoint = RemoteCleartext, allowUnprotectedEndpoint = true });
        Assert.That(status.GetProperty("mode").GetString(), Is.EqualTo("error"), status.ToString());
        Assert.That(status.GetProperty("detail").GetString(), Does.Contain("cleartext (http://) to another machine"));

        var allowed = await FirstStatus(new { modelFolder = _model, endpoint = RemoteCleartext, allowUnprotectedEndpoint = true, allowCleartextEndpoint = true });
        Assert.That(allowed.GetProperty("mode").GetString(), Is.EqualTo("split"), allowed.ToString());
    }

    /// <summary>The first status after loading: ready (split/local) or refused (error).</summary>
    async Task<JsonElement> FirstStatus(object settings)
    {
        string root = Directory.CreateDirectory(Path.Combine(_root, "ws-" + Guid.NewGuid().ToString("N")[..8])).FullName;
        var environment = LspProcess.IsolatedEnvironment(root);
        environment["NOIR_API_KEY"] = "";
        var sidecar = LspProcess.Start(environment);
        try
        {
            await sidecar.InitializeAsync(settings, root);
            var status = sidecar.WaitForStatus(s => s.GetProperty("mode").GetString() is "split" or "local" or "error", 120);
            await sidecar.ShutdownCleanlyAsync();
            return status;
        }
        finally { sidecar.Dispose(); }
    }
}
