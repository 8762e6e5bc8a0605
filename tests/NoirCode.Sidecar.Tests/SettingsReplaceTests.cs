using System.Text.Json;
using System.Text.Json.Nodes;
using NoirCode.Core.Model;
using NoirCode.Sidecar.Lsp;
using NoirCode.Sidecar.Runtime;
using NoirCode.Testing.Models;

namespace NoirCode.Sidecar.Tests;

/// <summary>
/// The settings are the editor's `noircode` section as it is, and each workspace/didChangeConfiguration replaces
/// them: a setting the user cleared is back at its default at once, without restarting the sidecar.
/// </summary>
public class SettingsReplaceTests
{
    static SidecarSettings From(object section) => SidecarSettings.From(JsonSerializer.SerializeToElement(section));

    [Test]
    public void TheEditorsSectionIsReadAsItIsAndNormalisedHere()
    {
        var s = From(new
        {
            noircode = new
            {
                endpoint = " https://a:7450, https://b:7450 ", modelFolder = "", keysFolder = " /k ", localModelFolder = "  ", mode = "local",
                exposureBudgetTokens = 5000.7, debounceMs = (int?)null, sidecarPath = "/ignored", trace = new { server = "off" },
                enable = new Dictionary<string, bool> { ["*"] = true, ["plaintext"] = false, ["typescript"] = true, ["javascript"] = true },
            },
        });
        Assert.That(s.Endpoints, Is.EqualTo(new[] { "https://a:7450", "https://b:7450" }));
        Assert.That(s.ModelFolder, Is.Null, "a blank folder is unset");
        Assert.That(s.LocalModelFolder, Is.Null);
        Assert.That(s.KeysFolder, Is.EqualTo("/k"));
        Assert.That(s.Mode, Is.EqualTo(RuntimeMode.Local));
        Assert.That(s.ExposureBudgetTokens, Is.EqualTo(5000));
        Assert.That(s.DebounceMs, Is.Null);
        Assert.That(s.EnabledLanguages, Is.EqualTo(new[] { "javascript", "typescript" }), "languages enabled by name, not through *");
        Assert.That(s.DisabledLanguages, Is.EqualTo(new[] { "plaintext" }));
    }

    [Test]
    public void AMissingOrBadValueIsItsDefault()
    {
        var s = From(new { noircode = new { endpoint = "", exposureBudgetTokens = 0, mode = "elsewhere", wire = 3, speculativeDecoding = "no", enable = new { }, maxPromptTokens = 8 } });
        Assert.That(s, Is.EqualTo(new SidecarSettings()));
        Assert.That(From(new { exposureBudgetTokens = -1 }).ExposureBudgetTokens, Is.Null);
        Assert.That(From(new { maxPromptTokens = 300.5 }).MaxPromptTokens, Is.EqualTo(300));
    }

    [Test]
    public void ATunedClientsPromptFillsTheWindowItWasTunedOnUnlessTheSettingsSayOtherwise()
    {
        int Prompt(object settings, int? window) => Runtime.LoadedRuntime.CompletionSettingsFor(From(settings), window).MaxPromptTokens;
        Assert.That(Prompt(new { }, null), Is.EqualTo(768), "not keyed, or no window recorded: the engine's default");
        Assert.That(Prompt(new { }, 256), Is.EqualTo(253), "the window less the three control tokens");
        Assert.That(Prompt(new { }, 4096), Is.EqualTo(768), "a longer window does not lengthen the default");
        Assert.That(Prompt(new { maxPromptTokens = 600 }, 256), Is.EqualTo(600), "the setting wins");
    }

    [Test]
    public void ASectionIsReadAfreshOverTheInitializationOptions()
    {
        var init = JsonSerializer.SerializeToElement(new { modelFolder = "/m", exposureBudgetTokens = 5000, debounceMs = 120 });
        var cleared = SidecarSettings.From(JsonNode.Parse("""{"noircode": {"modelFolder": "/m", "exposureBudgetTokens": null, "debounceMs": null}}""")!.Deserialize<JsonElement>(), init);
        Assert.That(cleared.ExposureBudgetTokens, Is.Null, "sent as null (what VS Code gives for a cleared setting): the default");
        Assert.That(cleared.DebounceMs, Is.Null);
        var partial = SidecarSettings.From(JsonSerializer.SerializeToElement(new { noir = new { wire = "f32" } }), init);
        Assert.That((partial.ModelFolder, partial.ExposureBudgetTokens, partial.Wire), Is.EqualTo(("/m", (long?)5000, "f32")), "a field left out keeps its initializationOptions value");
    }

    [Test]
    public async Task ClearingTheBudgetTakesEffectWithoutARestart()
    {
        using var temp = new TempModel("noir-settings-tests-", seed: 3);
        string root = temp.Root;
        string model = temp.Folder;
        int loads = 0;
        await using var server = new InProcessServer(root, settings => { Interlocked.Increment(ref loads); return InProcessServer.LocalRuntime(model, settings); });
        await server.InitializeAsync(new { modelFolder = model, mode = "local" });
        server.WaitForStatus(s => s.GetProperty("mode").GetString() == "local");
        await server.NotifyAsync("workspace/didChangeConfiguration", new { settings = new { noircode = new { modelFolder = model, mode = "local", exposureBudgetTokens = 5000, debounceMs = 120 } } });
        var first = server.WaitForStatus(s => s.TryGetProperty("exposureLimit", out _));
        Assert.That(first.GetProperty("exposureLimit").GetInt64(), Is.EqualTo(5000));
        Assert.That(first.GetProperty("exposureBasis").GetString(), Is.EqualTo("setting"));

        // The editor's section without the budget: the user cleared it.
        await server.NotifyAsync("workspace/didChangeConfiguration", new { settings = new { noircode = new { modelFolder = model, mode = "local" } } });
        var cleared = server.WaitForStatus(s => s.GetProperty("exposureBasis").GetString() != "setting");
        Assert.That(cleared.GetProperty("exposureBasis").GetString(), Is.EqualTo("none"), "back to the default: the measured budget, and this model has none");
        Assert.That(cleared.TryGetProperty("exposureLimit", out _), Is.False);
        Assert.That(cleared.GetProperty("mode").GetString(), Is.EqualTo("local"));
        Assert.That(loads, Is.EqualTo(1), "the model stayed loaded: no restart, no reload");

        // A notification without a settings object changes nothing.
        await server.NotifyAsync("workspace/didChangeConfiguration", new { settings = (object?)null });
        await server.NotifyAsync("workspace/didChangeConfiguration", new { settings = new { noircode = new { modelFolder = model, mode = "local", exposureBudgetTokens = 7000 } } });
        Assert.That(server.WaitForStatus(s => s.TryGetProperty("exposureLimit", out _)).GetProperty("exposureLimit").GetInt64(), Is.EqualTo(7000));
        Assert.That(loads, Is.EqualTo(1));
    }
}
