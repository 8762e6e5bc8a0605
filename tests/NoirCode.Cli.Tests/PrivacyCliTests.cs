namespace NoirCode.Cli.Tests;

/// <summary>noir keygen, generate --keys and privacy status, run as a user would.</summary>
public class PrivacyCliTests
{
    string _root = "";
    string Model => Path.Combine(_root, "model");

    [OneTimeSetUp]
    public void MakeModel()
    {
        _root = Directory.CreateTempSubdirectory("noir-privacy-cli-").FullName;
        NoirProcess.Ok("model", "init-random", "--preset", "tiny", "--out", Model);
    }

    static string Repository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (Directory.Exists(Path.Combine(dir.FullName, "models", "noir-coder-8m"))) return dir.FullName;
        throw new DirectoryNotFoundException("models/noir-coder-8m above the test binaries");
    }

    [OneTimeTearDown]
    public void Clean() => Directory.Delete(_root, recursive: true);

    [Test]
    public void KeygenWritesOwnerOnlyKeysBoundToTheModel()
    {
        string keys = Path.Combine(_root, "keys13");
        var o = NoirProcess.Ok("keygen", "--model", Model, "--epsilon", "13", "--out", keys, "--json").Json;
        Assert.That((bool)o["theorem1_holds"]!, Is.True);
        Assert.That((double)o["keep_rate"]!, Is.LessThan(0.05));
        Assert.That((int)o["homophones"]!, Is.EqualTo(16), "new keys are homophonic by default (the defence measured strongest)");
        Assert.That((double)o["total_epsilon"]!, Is.EqualTo(16 * 13));
        Assert.That(File.GetUnixFileMode(keys), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute));
        foreach (var f in Directory.GetFiles(keys)) Assert.That(File.GetUnixFileMode(f), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));

        var gen = NoirProcess.Ok("generate", "--model", Model, "--keys", keys, "--prompt", "import os", "--max-tokens", "4", "--json").Json;
        Assert.That((string)gen["mode"]!, Does.Contain((string)o["key_id"]!));

        var status = NoirProcess.Ok("privacy", "status", "--keys", keys, "--budget", "1000", "--json").Json;
        Assert.That((double)status["epsilon"]!, Is.EqualTo(13));
        Assert.That((bool)status["prompt_bound_vacuous"]!, Is.True, "with a 520-token vocabulary, ε = 13 bounds nothing");
        Assert.That((string)status["statement"]!, Does.Contain("vacuous"));
        // The measured curve first; the bounds after it, with the assumption they rest on.
        var fields = status.Select(kv => kv.Key).ToList();
        Assert.That(fields.IndexOf("measured_budget"), Is.LessThan(fields.IndexOf("per_token_guess_bound")));
        Assert.That((string)status["bounds_assume"]!, Does.Contain("uniform prior").And.Contain("not guarantees"));
        Assert.That((string)status["statement"]!, Does.StartWith("assuming a uniform prior"));
        Assert.That((string)status["measured_budget"]!, Does.StartWith("none"), "no exposure-budget.json for this model");
        Assert.That((string)status["budget"]!["source"]!, Is.EqualTo("--budget"));
        // With the model's measured budget beside it, that is the default: per key, from the report's curve.
        File.Copy(Path.Combine(Repository(), "models", "noir-coder-8m", Privacy.Ledger.MeasuredBudget.FileName), Path.Combine(Model, Privacy.Ledger.MeasuredBudget.FileName), overwrite: true);
        var measured = NoirProcess.Ok("privacy", "status", "--keys", keys, "--model", Model, "--json").Json;
        var shipped = Privacy.Ledger.MeasuredBudget.Load(Path.Combine(Model, Privacy.Ledger.MeasuredBudget.FileName));
        Assert.That((long)measured["measured_budget"]!["tokens"]!, Is.EqualTo(shipped.Tokens));
        Assert.That((long)measured["budget"]!["limit"]!, Is.EqualTo(shipped.Tokens));
        Assert.That((string)measured["budget"]!["period"]!, Is.EqualTo("Key"));
        Assert.That((string)measured["budget"]!["source"]!, Is.EqualTo("measured"));
        File.Delete(Path.Combine(Model, Privacy.Ledger.MeasuredBudget.FileName));
        Assert.That(NoirProcess.Ok("privacy", "ledger", "--json").Json["rows"], Is.Not.Null);

        var again = NoirProcess.Run("keygen", "--model", Model, "--epsilon", "13", "--out", keys);
        Assert.That(again.ExitCode, Is.EqualTo(2));
        Assert.That(again.Stderr, Does.Contain("never overwritten"));
    }

    [Test]
    public void EpsilonBelowTheModelsTheorem1MinimumIsRefusedUnlessAsked()
    {
        string keys = Path.Combine(_root, "keys1");
        var refused = NoirProcess.Run("keygen", "--model", Model, "--epsilon", "1", "--out", keys);
        Assert.That(refused.ExitCode, Is.EqualTo(2));
        Assert.That(refused.Stderr, Does.Contain("smallest ε for which Theorem 1's condition holds"));
        Assert.That(Directory.Exists(keys) && Directory.EnumerateFileSystemEntries(keys).Any(), Is.False, "nothing written");
        var forced = NoirProcess.Ok("keygen", "--model", Model, "--epsilon", "1", "--out", keys, "--allow-below-theorem1", "--json").Json;
        Assert.That((bool)forced["theorem1_holds"]!, Is.False);
    }

    [Test]
    public void KeysForAnotherModelAreRefused()
    {
        string other = Path.Combine(_root, "other"), keys = Path.Combine(_root, "other-keys");
        NoirProcess.Ok("model", "init-random", "--preset", "tiny", "--seed", "9", "--out", other);
        NoirProcess.Ok("keygen", "--model", other, "--epsilon", "13", "--out", keys);
        var r = NoirProcess.Run("generate", "--model", Model, "--keys", keys, "--prompt", "x");
        Assert.That(r.ExitCode, Is.EqualTo(2));
        Assert.That(r.Stderr, Does.Contain("were made for another model"));
    }
}
