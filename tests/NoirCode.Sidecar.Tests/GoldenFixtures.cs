namespace NoirCode.Sidecar.Tests;

/// <summary>The golden fixtures in a folder of tests/fixtures: one test case per JSON file, named after it.</summary>
static class GoldenFixtures
{
    public static IEnumerable<TestCaseData> In(string folder) =>
        Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "fixtures", folder), "*.json").Order()
            .Select(f => new TestCaseData(f).SetName(Path.GetFileNameWithoutExtension(f)));
}
