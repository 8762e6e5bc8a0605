using NoirCode.Core.Model;
using NoirCode.Privacy.Keys;

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
        string root = Directory.CreateTempSubdirectory("noir-homophonic-status-").FullName;
        string model = Path.Combine(root, "model"), keysFolder = Path.Combine(root, "keys");
        var config = RandomModelFactory.Create(model, "tiny", seed: 6);
        var (embedding, dtype) = PrivacyKeys.ReadEmbedding(model, config);
        var (keys, _) = PrivacyKeys.Generate(embedding, config, ModelFingerprint.Of(model), 13, "team", tableDtype: dtype, homophones: 3);
        keys.Save(keysFolder);
        var sidecar = new SidecarProcess(root, new Dictionary<string, string> { ["XDG_CACHE_HOME"] = Path.Combine(root, "cache"), ["NOIR_LEDGER_DIR"] = Path.Combine(root, "ledger") });
        try
        {
            await sidecar.InitializeAsync(new { modelFolder = model, keysFolder });
            var ready = sidecar.WaitForStatus(s => s.GetProperty("mode").GetString() is "split" or "error", 180);
            Assert.That(ready.GetProperty("mode").GetString(), Is.EqualTo("split"), ready.ToString());
            Assert.That(ready.GetProperty("epsilon").GetDouble(), Is.EqualTo(3 * 13), "three tables at ε = 13 each");
        }
        finally
        {
            await sidecar.DisposeAsync();
            Directory.Delete(root, true);
        }
    }
}
