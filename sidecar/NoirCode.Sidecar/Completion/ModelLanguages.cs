using System.Text.Json.Nodes;

namespace NoirCode.Sidecar.Completion;

/// <summary>
/// The programming languages a model declares it knows, as editor language ids: a "languages" list in its
/// config.json, or in its model card's front matter (README.md, "languages: [python]" or a "- python" list).
/// Null: the model declares none, so it is taken to know any (real code models are multilingual).
/// </summary>
public static class ModelLanguages
{
    public static IReadOnlySet<string>? Declared(string? folder)
    {
        if (folder == null || !Directory.Exists(folder)) return null;
        return FromConfig(Path.Combine(folder, "config.json")) ?? FromModelCard(Path.Combine(folder, "README.md"));
    }

    static IReadOnlySet<string>? FromConfig(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) is JsonObject o && o["languages"] is JsonArray a
                ? Normalise(a.Select(n => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null))
                : null;
        }
        catch (System.Text.Json.JsonException) { return null; }
    }

    static IReadOnlySet<string>? FromModelCard(string path)
    {
        if (!File.Exists(path)) return null;
        var lines = File.ReadLines(path).Take(200).ToList();
        if (lines.Count == 0 || lines[0].Trim() != "---") return null;
        for (int i = 1; i < lines.Count && lines[i].Trim() != "---"; i++)
        {
            if (!lines[i].StartsWith("languages:", StringComparison.Ordinal)) continue;
            string rest = lines[i]["languages:".Length..].Trim();
            if (rest.StartsWith('[')) return Normalise(rest.Trim('[', ']').Split(','));
            var items = new List<string>();
            for (int j = i + 1; j < lines.Count && lines[j].TrimStart().StartsWith("- ", StringComparison.Ordinal); j++) items.Add(lines[j].TrimStart()[2..]);
            return Normalise(items);
        }
        return null;
    }

    static IReadOnlySet<string>? Normalise(IEnumerable<string?> items)
    {
        var set = items.Where(s => s != null).Select(s => s!.Trim().Trim('"', '\'').ToLowerInvariant()).Where(s => s.Length > 0).ToHashSet(StringComparer.Ordinal);
        return set.Count > 0 ? set : null;
    }
}
