using System.Text.Json.Nodes;

namespace NoirCode.Attack.Report;

/// <summary>
/// Utility per setting (HumanEval single-line infilling exact match, from <c>noir eval infill</c>), read from a
/// JSON object {"setting name": exact_match | {"exact_match": x, ...}}. Settings without a figure stay empty.
/// </summary>
public sealed class UtilityTable
{
    readonly Dictionary<string, double> _exactMatch = new(StringComparer.OrdinalIgnoreCase);
    public string? Source { get; private init; }

    public static UtilityTable Empty() => new();

    public static UtilityTable Load(string path)
    {
        if (!File.Exists(path)) throw new IOException($"utility file {path} does not exist");
        var table = new UtilityTable { Source = Path.GetFileName(path) };
        try
        {
            foreach (var (name, value) in JsonNode.Parse(File.ReadAllText(path))!.AsObject())
            {
                var v = value is JsonObject o ? o["exact_match"] : value;
                if (v is JsonValue j && j.TryGetValue(out double em)) table._exactMatch[name] = em;
                else throw new FormatException($"'{name}' has no exact_match number");
            }
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or FormatException or NullReferenceException)
        {
            throw new IOException($"{path}: expected a JSON object of setting name → exact match ({e.Message})");
        }
        return table;
    }

    public double? ExactMatch(string setting) => _exactMatch.TryGetValue(setting, out var v) ? v : null;
}
