using NoirCode.Core.Model;
using NoirCode.Privacy.Keys;
using NoirCode.Testing.Lsp;
using NoirCode.Testing.Models;

namespace NoirCode.Sidecar.Tests;

/// <summary>
/// Homophonic keys hold k tables at ε each, which compose to k·ε: the status bar shows what the keys spend in all,
/// not one table's ε (the real sidecar with the user's keys and the embedded endpoint).
/// </summary>
public class HomophonicKeysStatusTests
{
    [Test]
    public async Task TheStatusShowsTheComposedEpsilonOfAllTheTables()
    {
        using var temp = new TempModel("noir-homophonic-status-", seed: 6);
        string root = temp.Root, model = temp.Folder, keysFolder = Path.Combine(root, "keys");
        var config = temp.Config;
        var (embedding, dtype) = PrivacyKeys.ReadEmbedding(model, config);
        var (keys, _) = PrivacyKeys.Generate(embedding, config, ModelFingerprint.Of(model), 13, "team", tableDtype: dtype, homophones: 3);
        keys.Save(keysFolder);
        using var sidecar = LspProcess.Start(LspProcess.IsolatedEnvironment(root));
        await sidecar.InitializeAsync(new { modelFolder = model, keysFolder }, root);
        var ready = sidecar.WaitForStatus(s => s.GetProperty("mode").GetString() is "split" or "error", 180);
        Assert.That(ready.GetProperty("mode").GetString(), Is.EqualTo("split"), ready.ToString());
        Assert.That(ready.GetProperty("epsilon").GetDouble(), Is.EqualTo(3 * 13), "three tables at ε = 13 each");
    }
}
