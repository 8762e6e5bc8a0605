using System.IO.Compression;
using System.Text.Json.Nodes;

namespace NoirCode.Attack.Data;

/// <summary>
/// One private item the developer sends: a prompt (x: signature and docstring) and its code (y: the body).
/// The private set is HumanEval's prompts and canonical solutions; no attack ever trains on it.
/// </summary>
public sealed record PrivateDocument(string Id, string Prompt, string Code)
{
    /// <summary>Reads a HumanEval-format .jsonl(.gz): task_id, prompt, canonical_solution.</summary>
    public static List<PrivateDocument> Load(string path, int? limit = null)
    {
        if (!File.Exists(path)) throw new IOException($"private set {path} does not exist");
        Stream stream = File.OpenRead(path);
        if (path.EndsWith(".gz", StringComparison.Ordinal)) stream = new GZipStream(stream, CompressionMode.Decompress);
        using var reader = new StreamReader(stream);
        var docs = new List<PrivateDocument>();
        int line = 0;
        while (reader.ReadLine() is { } text && (limit is null || docs.Count < limit))
        {
            line++;
            if (text.Length == 0) continue;
            try
            {
                var o = JsonNode.Parse(text)!.AsObject();
                docs.Add(new PrivateDocument((string)o["task_id"]!, (string)o["prompt"]!, (string)o["canonical_solution"]!));
            }
            catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or NullReferenceException)
            {
                throw new IOException($"{path}:{line}: not a HumanEval item (needs task_id, prompt, canonical_solution)");
            }
        }
        if (docs.Count == 0) throw new IOException($"{path} holds no items");
        return docs;
    }

    /// <summary>The shared HumanEval file beside the repository (../shared/benchmarks), found from here or from the binary.</summary>
    public static string DefaultPath()
    {
        const string name = "HumanEval.jsonl.gz";
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "shared", "benchmarks", name);
                if (File.Exists(candidate)) return candidate;
            }
        throw new IOException($"could not find shared/benchmarks/{name}; pass --private FILE");
    }
}
