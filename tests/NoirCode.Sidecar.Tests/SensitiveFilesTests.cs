using NoirCode.Sidecar.Lsp;

namespace NoirCode.Sidecar.Tests;

/// <summary>
/// Which documents never reach the endpoint, decided on real files in a real folder: every path suffix against the
/// built-in secret names, .noirignore with gitignore's semantics (and edits to it at once), symlinks resolved,
/// files outside the workspace, untitled buffers and the content check.
/// </summary>
public class SensitiveFilesTests
{
    string _base = "", _workspace = "", _outside = "";

    [SetUp]
    public void MakeFolders()
    {
        _base = Directory.CreateTempSubdirectory("noir-sensitive-").FullName;
        _workspace = Directory.CreateDirectory(Path.Combine(_base, "workspace")).FullName;
        _outside = Directory.CreateDirectory(Path.Combine(_base, "elsewhere")).FullName;
    }

    [TearDown]
    public void Clean() => Directory.Delete(_base, true);

    string File(string relative, string text = "x = 1\n", string? under = null)
    {
        string path = Path.Combine(under ?? _workspace, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllText(path, text);
        return path;
    }

    static string U(string path) => new Uri(path).ToString();

    [Test]
    public void CredentialFilesMatchAtAnyDepth()
    {
        var files = new SensitiveFiles(_workspace);
        foreach (var name in new[] { ".ssh/config", ".aws/config", ".kube/config", ".docker/config.json", ".git-credentials", ".pgpass", "infra/prod.tfvars",
                     "app/secrets.json", "deploy/secrets/db.yaml", "home/me/.ssh/known_hosts", "x/.env.local" })
            Assert.That(files.IsSensitive(U(File(name))), Is.True, name);
        Assert.That(files.IsSensitive(U(File("src/config.json"))), Is.False);
        // Without a workspace (a single file opened), a home folder's credential files still match.
        var noWorkspace = new SensitiveFiles(null);
        Assert.That(noWorkspace.IsSensitive(U(File("me/.ssh/config", under: _outside))), Is.True);
        Assert.That(noWorkspace.IsSensitive(U(File("me/.kube/config", under: _outside))), Is.True);
        Assert.That(noWorkspace.IsSensitive(U(File("me/project/main.py", under: _outside))), Is.False);
    }

    [Test]
    public void NoirignoreHasGitignoreSemantics()
    {
        File(".noirignore", "# private things\nbuild/\n/top.txt\n*.log\n!keep.log\ndocs/**/*.draft.md\n");
        File("sub/.noirignore", "local.cfg\n");
        var files = new SensitiveFiles(_workspace);
        bool S(string relative) => files.IsSensitive(U(File(relative)));
        Assert.That(S("src/build/out.py"), Is.True, "a folder pattern covers nested folders of that name");
        Assert.That(S("build/x.py"), Is.True);
        Assert.That(S("src/build.py"), Is.False, "a folder pattern does not match a file");
        Assert.That(S("top.txt"), Is.True);
        Assert.That(S("sub/top.txt"), Is.False, "a leading slash anchors to the .noirignore's folder");
        Assert.That(S("a/b/debug.log"), Is.True);
        Assert.That(S("a/keep.log"), Is.False, "! re-includes");
        Assert.That(S("docs/x/y/plan.draft.md"), Is.True, "** spans folders");
        Assert.That(S("sub/deeper/local.cfg"), Is.True, "a nested .noirignore applies below its folder");
        Assert.That(S("local.cfg"), Is.False, "and only there");
    }

    [Test]
    public void ANoirignoreEditedAfterStartCountsAtOnce()
    {
        var files = new SensitiveFiles(_workspace);
        string notes = U(File("notes/plan.py"));
        Assert.That(files.IsSensitive(notes), Is.False);
        File(".noirignore", "notes/\n");
        Assert.That(files.IsSensitive(notes), Is.True, "written after the first check");
        System.IO.File.Delete(Path.Combine(_workspace, ".noirignore"));
        Assert.That(files.IsSensitive(notes), Is.False, "removed again");
    }

    [Test]
    public void ANoirignoreRewrittenWithinOneTimestampTickCountsToo()
    {
        var files = new SensitiveFiles(_workspace);
        string notes = U(File("notes/plan.py")), drafts = U(File("draft/plan.py"));
        string ignore = File(".noirignore", "notes/\n");
        var written = System.IO.File.GetLastWriteTimeUtc(ignore);
        Assert.That(files.IsSensitive(notes), Is.True);
        // Same length, and the time a filesystem with coarse timestamps (FAT, some network mounts) would show.
        System.IO.File.WriteAllText(ignore, "draft/\n");
        System.IO.File.SetLastWriteTimeUtc(ignore, written);
        Assert.That(files.IsSensitive(drafts), Is.True, "the new rule counts");
        Assert.That(files.IsSensitive(notes), Is.False, "the old one is gone");
    }

    [Test]
    public void SymlinksAreJudgedByWhatTheyPointAt()
    {
        string key = File("keys/id_ed25519", "not really a key");
        string innocent = Path.Combine(_workspace, "notes.txt");
        System.IO.File.CreateSymbolicLink(innocent, key);
        string outsideCode = File("lib/util.py", under: _outside);
        string linked = Path.Combine(_workspace, "util.py");
        System.IO.File.CreateSymbolicLink(linked, outsideCode);
        var files = new SensitiveFiles(_workspace);
        Assert.That(files.IsSensitive(U(innocent)), Is.True, "an innocent name for a key file");
        Assert.That(files.IsSensitive(U(linked)), Is.True, "a link to a file outside the workspace");
        Assert.That(files.Reason(U(linked)), Does.Contain("outside the workspace"));
    }

    [Test]
    public void FilesOutsideTheWorkspaceAreSensitive()
    {
        var files = new SensitiveFiles(_workspace);
        Assert.That(files.IsSensitive(U(File("other-project/main.py", under: _outside))), Is.True);
        Assert.That(files.IsSensitive(U(File("main.py"))), Is.False);
        Assert.That(files.IsSensitive(U(Path.Combine(_workspace, "..", "elsewhere", "x.py"))), Is.True, ".. does not get out of it");
    }

    [Test]
    public void UntitledBuffersAndOtherDocumentsAreJudgedByTheirText()
    {
        var files = new SensitiveFiles(_workspace);
        Assert.That(files.IsSensitive("untitled:Untitled-1", "def add(a, b):\n    return a + b\n"), Is.False);
        Assert.That(files.IsSensitive("untitled:Untitled-1", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"), Is.True);
        Assert.That(files.IsSensitive("git:/repo/main.py?ref=HEAD", "x = 1"), Is.True, "not a file here: not sent");
    }

    [Test]
    public void SecretsAreFoundByTheirContentAndOrdinaryCodeIsNot()
    {
        var files = new SensitiveFiles(_workspace);
        string main = U(File("main.py"));
        foreach (var secret in new[]
                 {
                     "KEY = '''-----BEGIN RSA PRIVATE KEY-----\nMIIEow'''",
                     "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n",
                     "client = Client(token='ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789')\n",
                     "DB_PASSWORD = \"Tr0ub4dor&3-horse-Battery\"\n",
                     "api_key: q8Zr2LxV9pWm4TnK7sYb\n",
                     "blob = 'tWz9Qm4Lx7Rk2Vn8Pb5Yc3Hd6Jf1Gs0AeUiO'\n",
                 })
            Assert.That(files.IsSensitive(main, secret), Is.True, secret);
        foreach (var ordinary in new[]
                 {
                     "password = request.form.get('password')\n",
                     "token = os.environ[\"GITHUB_TOKEN\"]\n",
                     "DIGEST = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'\n",
                     "ID = '123e4567-e89b-12d3-a456-426614174000'\n",
                     "def read_configuration_from_environment_variables(path):\n    return path\n",
                     "password = 'hunter2-prod'\n",
                     "    token_type = 'bare-quoted-string'\n", // the standard library's email parser: a name, not a key
                     "secret_kind = \"content-transfer-encoding\"\n",
                 })
            Assert.That(files.IsSensitive(main, ordinary), Is.False, ordinary);
    }
}
