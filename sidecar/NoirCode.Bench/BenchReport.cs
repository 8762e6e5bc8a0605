using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace NoirCode.Bench;

/// <summary>
/// Writes one benchmark's results into docs/benchmarks.md (its own section, between markers, so benchmarks
/// can be re-run one at a time) and its figures into docs/benchmarks.json, with the machine noted.
/// </summary>
public static class BenchReport
{
    public static string Machine() =>
        $"{Environment.ProcessorCount} cores ({RuntimeInformation.ProcessArchitecture}), {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30)} GiB, {RuntimeInformation.OSDescription}, .NET {Environment.Version}";

    public static void Write(string repo, string section, string markdown, JsonObject figures)
    {
        string docs = Path.Combine(repo, "docs");
        Directory.CreateDirectory(docs);
        string mdPath = Path.Combine(docs, "benchmarks.md");
        string begin = $"<!-- bench:{section}:begin -->", end = $"<!-- bench:{section}:end -->";
        string md = File.Exists(mdPath) ? File.ReadAllText(mdPath) : "# Benchmarks\n\nWritten by `scripts/bench`; each section notes its machine and command.\n";
        string block = $"{begin}\n{markdown.TrimEnd()}\n{end}";
        int b = md.IndexOf(begin, StringComparison.Ordinal), e = md.IndexOf(end, StringComparison.Ordinal);
        md = b >= 0 && e > b ? md[..b] + block + md[(e + end.Length)..] : md.TrimEnd() + "\n\n" + block + "\n";
        File.WriteAllText(mdPath, md);

        string jsonPath = Path.Combine(docs, "benchmarks.json");
        var json = File.Exists(jsonPath) ? JsonNode.Parse(File.ReadAllText(jsonPath))!.AsObject() : new JsonObject();
        foreach (var (k, v) in figures) json[k] = v?.DeepClone();
        File.WriteAllText(jsonPath, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }
}
