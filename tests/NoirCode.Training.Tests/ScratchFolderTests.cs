namespace NoirCode.Training.Tests;

/// <summary>A fresh folder for each test (<see cref="Root"/>), removed after it.</summary>
public abstract class ScratchFolderTests
{
    protected string Root { get; private set; } = "";

    [SetUp]
    public void MakeRoot() => Root = Directory.CreateTempSubdirectory("noir-training-tests-").FullName;

    [TearDown]
    public void RemoveRoot() => Directory.Delete(Root, recursive: true);
}
