using NoirCode.Training;

namespace NoirCode.Training.Tests;

/// <summary>Which Debian packages' Python the corpus may take: licences read from DEP-5 copyright files.</summary>
public sealed class DebianPythonSourcesTests : ScratchFolderTests
{
    const string Dep5 = """
        Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
        Upstream-Name: example

        Files: debian/*
        Copyright: 2020 A Debian Developer
        License: GPL-2+

        Files: *
        Copyright: 2019 Upstream Author
        License: BSD-3-clause

        License: BSD-3-clause
         Redistribution and use ...
        """;

    [Test]
    public void TheUpstreamStanzaDecidesNotDebiansPackagingFiles()
    {
        string file = Path.Combine(Root, "copyright");
        File.WriteAllText(file, Dep5);
        Assert.That(DebianPythonSources.UpstreamLicence(file), Is.EqualTo("BSD-3-clause"));
    }

    [Test]
    public void ACopyrightFileThatIsNotMachineReadableGivesNoLicence()
    {
        string file = Path.Combine(Root, "copyright");
        File.WriteAllText(file, "This package was debianized by someone.\nIt is BSD licensed, we think.\n");
        Assert.That(DebianPythonSources.UpstreamLicence(file), Is.Null);
        Assert.That(DebianPythonSources.UpstreamLicence(Path.Combine(Root, "missing")), Is.Null);
    }

    [TestCase("Expat", true)]
    [TestCase("bsd-2-clause", true)]
    [TestCase("Apache-2.0", true)]
    [TestCase("GPL-2+", false)]
    [TestCase("LGPL-2.1+", false)]
    [TestCase("MPL-2", false)]
    [TestCase("GPL-2+ or Expat", true)]
    [TestCase("Apache-2.0 and GPL-3", false)]
    [TestCase("Expat and BSD-3-clause", true)]
    public void OnlyPermissiveLicencesAreKept(string licence, bool permissive) =>
        Assert.That(DebianPythonSources.IsPermissive(licence), Is.EqualTo(permissive));

    [Test]
    public void CollectKeepsPermissivePackagesWithoutVendoredCopiesAndRecordsEveryPackage()
    {
        string dist = Directory.CreateDirectory(Path.Combine(Root, "dist-packages")).FullName;
        string info = Directory.CreateDirectory(Path.Combine(Root, "info")).FullName;
        string docs = Directory.CreateDirectory(Path.Combine(Root, "doc")).FullName;
        string Source(string rel)
        {
            string path = Path.Combine(dist, rel);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, $"# {rel}\n");
            return path;
        }
        void Package(string name, string? licence, params string[] files)
        {
            File.WriteAllLines(Path.Combine(info, name + ".list"), files.Prepend(dist).Append("/usr/share/doc/" + name));
            if (licence == null) return;
            string doc = Directory.CreateDirectory(Path.Combine(docs, name.Split(':')[0])).FullName; // no architecture here
            File.WriteAllText(Path.Combine(doc, "copyright"), $"Format: x\n\nFiles: *\nCopyright: someone\nLicense: {licence}\n");
        }
        Package("python3-kept:amd64", "Expat", Source("kept/__init__.py"), Source("kept/_vendor/other.py"), Path.Combine(dist, "kept/gone.py"));
        Package("python3-gpl", "GPL-3+", Source("gpl/mod.py"));
        Package("python3-unknown", null, Source("unknown.py"));
        Package("libnothing", "Expat");

        var result = DebianPythonSources.Collect(dist, info, docs);

        Assert.That(result.Files.Select(f => f.Module), Is.EqualTo(new[] { "debian/python3-kept/kept/__init__.py" }));
        Assert.That(result.Packages.Select(p => (p.Name, p.Kept, p.Files)), Is.EquivalentTo(new[]
        {
            ("python3-kept", true, 1), ("python3-gpl", false, 1), ("python3-unknown", false, 1),
        }));
        Assert.That(result.Packages.Single(p => p.Name == "python3-gpl").Licence, Is.EqualTo("GPL-3+"));
    }
}
