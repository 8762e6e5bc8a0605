using System.IO.Compression;
using System.Text.Json.Nodes;

namespace NoirCode.Evaluation;

/// <summary>One HumanEval single-line infilling task: fill the line between prompt and suffix.</summary>
public sealed record InfillTask(string TaskId, string Prompt, string Suffix, string Solution, string Test, string EntryPoint)
{
    /// <summary>Reads a .jsonl or .jsonl.gz file of tasks (HumanEval-Infilling format).</summary>
    public static List<InfillTask> Load(string path)
    {
        if (!File.Exists(path)) throw new IOException($"benchmark file {path} does not exist");
        Stream stream = File.OpenRead(path);
        if (path.EndsWith(".gz", StringComparison.Ordinal)) stream = new GZipStream(stream, CompressionMode.Decompress);
        using var reader = new StreamReader(stream);
        var tasks = new List<InfillTask>();
        int line = 0;
        while (reader.ReadLine() is { } text)
        {
            line++;
            if (text.Length == 0) continue;
            try
            {
                var o = JsonNode.Parse(text)!.AsObject();
                tasks.Add(new InfillTask((string)o["task_id"]!, (string)o["prompt"]!, (string)o["suffix"]!, (string)o["canonical_solution"]!,
                    (string)o["test"]!, (string)o["entry_point"]!));
            }
            catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or NullReferenceException)
            {
                throw new IOException($"{path}:{line}: not an infilling task (needs task_id, prompt, suffix, canonical_solution, test, entry_point)");
            }
        }
        return tasks;
    }
}
