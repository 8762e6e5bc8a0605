using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace NoirCode.Bench.Infrastructure;

/// <summary>
/// Writes one benchmark's results into docs/benchmarks.md (its own section, between markers, so benchmarks
/// can be re-run one at a time) and its figures into docs/benchmarks.json, with the machine noted.
/// </summary>
public static class BenchReport
{
    public static string Machine() =>
        $"{Environment.ProcessorCount} cores ({CpuModel()}) ({RuntimeInformation.ProcessArchitecture}), {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30)} GiB, {RuntimeInformation.OSDescription}, .NET {Environment.Version}";

    static string CpuModel()
    {
        try { return File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"))?.Split(':', 2)[1].Trim() ?? "unknown CPU"; }
        catch (IOException) { return "unknown CPU"; }
    }

    /// <summary>Sections in the order of the issue's list, whatever order they were run in.</summary>
    static readonly string[] Order = { "summary", "decode", "decode-rtt", "ttfs", "ttfs-rtt", "quality", "wire", "throughput", "startup", "indvocab", "client-share", "llamacpp", "fairness", "load", "faults", "fuzz-lsp", "fuzz-grpc" };

    static string InOrder(string md)
    {
        var blocks = System.Text.RegularExpressions.Regex.Matches(md, @"<!-- bench:(?<name>[\w-]+):begin -->.*?<!-- bench:\k<name>:end -->\n?",
            System.Text.RegularExpressions.RegexOptions.Singleline).ToList();
        if (blocks.Count == 0) return md;
        string head = md[..blocks[0].Index];
        var sorted = blocks.OrderBy(m => Array.IndexOf(Order, m.Groups["name"].Value) is int i and >= 0 ? i : Order.Length).Select(m => m.Value.TrimEnd() + "\n");
        return head + string.Join("\n", sorted);
    }

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
        File.WriteAllText(mdPath, InOrder(md));

        string jsonPath = Path.Combine(docs, "benchmarks.json");
        var json = File.Exists(jsonPath) ? JsonNode.Parse(File.ReadAllText(jsonPath))!.AsObject() : new JsonObject();
        foreach (var (k, v) in figures) json[k] = v?.DeepClone();
        File.WriteAllText(jsonPath, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }
}
