using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace NoirCode.Cli;

public static class CliJson
{
    static readonly JsonSerializerOptions Options = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Print(JsonNode node) => Console.Out.WriteLine(node.ToJsonString(Options));

    /// <summary>One "key  value" line per field, strings unquoted, for people rather than programs.</summary>
    public static void PrintTable(JsonObject o)
    {
        int width = o.Select(kv => kv.Key.Length).DefaultIfEmpty(0).Max() + 2;
        foreach (var (key, value) in o)
        {
            string text = value is JsonValue v && v.TryGetValue<string>(out var s) ? s : value?.ToJsonString(Options) ?? "-";
            Console.Out.WriteLine(key.PadRight(width) + text);
        }
    }
}
