using System.Text.Json;

namespace NoirCode.Cli.Tests.Faults;

/// <summary>
/// Damaged privacy-key files give one clear line naming the file, and exit 2; never a stack trace, never a run
/// with a broken table. (Damaged weight files: CliTests.CorruptWeightsAreNamed and the Core load-error tests.)
/// </summary>
public class CorruptKeyFilesTests
{
    string _root = "";
    string Model => Path.Combine(_root, "model");
    string Keys => Path.Combine(_root, "keys");

    [OneTimeSetUp]
    public void MakeKeys()
    {
        _root = Directory.CreateTempSubdirectory("noir-corrupt-keys-").FullName;
        NoirProcess.Ok("model", "init-random", "--preset", "tiny", "--out", Model);
        NoirProcess.Ok("keygen", "--model", Model, "--epsilon", "13", "--out", Keys);
    }

    [OneTimeTearDown]
    public void Clean() => Directory.Delete(_root, recursive: true);

    /// <summary>A copy of the keys with one file changed, kept owner-only as keys must be.</summary>
    string Damaged(string name, Func<byte[], byte[]> change)
    {
        string dir = Path.Combine(_root, "damaged-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        foreach (var f in Directory.GetFiles(Keys))
        {
            string to = Path.Combine(dir, Path.GetFileName(f));
            var bytes = File.ReadAllBytes(f);
            File.WriteAllBytes(to, Path.GetFileName(f) == name ? change(bytes) : bytes);
            File.SetUnixFileMode(to, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        return dir;
    }

    /// <summary>The byte range of a tensor in a safetensors file.</summary>
    static (int Start, int End) TensorBytes(byte[] file, string tensor)
    {
        long headerLength = BitConverter.ToInt64(file, 0);
        using var header = JsonDocument.Parse(file.AsMemory(8, (int)headerLength));
        var offsets = header.RootElement.GetProperty(tensor).GetProperty("data_offsets");
        int at = 8 + (int)headerLength;
        return (at + offsets[0].GetInt32(), at + offsets[1].GetInt32());
    }

    static IEnumerable<TestCaseData> Damages()
    {
        yield return new TestCaseData("keys.json", (Func<byte[], byte[]>)(b => b[..(b.Length / 2)]), "keys.json is corrupt").SetName("metadata cut in half");
        yield return new TestCaseData("keys.json", (Func<byte[], byte[]>)(_ => "{\"format\": 5}"u8.ToArray()), "keys.json").SetName("metadata of the wrong shape");
        yield return new TestCaseData("keys.safetensors", (Func<byte[], byte[]>)(b => b[..(b.Length / 3)]), "keys.safetensors").SetName("tables truncated");
        yield return new TestCaseData("keys.safetensors", (Func<byte[], byte[]>)(b => { var c = (byte[])b.Clone(); Array.Fill(c, (byte)0xFF, 8, 40); return c; }), "keys.safetensors").SetName("tables header overwritten");
        yield return new TestCaseData("keys.safetensors", (Func<byte[], byte[]>)(b =>
        {
            var c = (byte[])b.Clone();
            var (start, end) = TensorBytes(c, "ltokenizer.permutation");
            Array.Fill(c, (byte)0, start, Math.Min(64, end - start)); // token ids 0..15 all map to index 0
            return c;
        }), "keys.safetensors is corrupt: the LTokenizer permutation").SetName("permutation with repeats");
        yield return new TestCaseData("keys.safetensors", (Func<byte[], byte[]>)(b =>
        {
            var c = (byte[])b.Clone();
            var (start, _) = TensorBytes(c, "indvocab.embedding");
            BitConverter.GetBytes(float.NaN).CopyTo(c, start + 4 * 100);
            return c;
        }), "keys.safetensors is corrupt: the INDVocab table holds NaN").SetName("table with a NaN");
    }

    [TestCaseSource(nameof(Damages))]
    public void DamagedKeysGiveOneClearLine(string file, Func<byte[], byte[]> damage, string expected)
    {
        string keys = Damaged(file, damage);
        var r = NoirProcess.Run("generate", "--model", Model, "--keys", keys, "--prompt", "import os", "--max-tokens", "2");
        Assert.That(r.ExitCode, Is.EqualTo(2), r.Stderr);
        var errors = r.Stderr.Trim().Split('\n').Where(l => !l.StartsWith("loading weights", StringComparison.Ordinal)).ToList(); // progress lines aside
        Assert.That(errors, Has.Count.EqualTo(1), "one line, no stack trace: " + r.Stderr);
        Assert.That(errors[0], Does.StartWith("noir: error:").And.Contain(expected));
    }
}
